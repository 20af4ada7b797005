// The events table: the durable log of what happened (a push received, a run queued, started,
// finished), written before it is acted on (DESIGN §3) and read by API clients that follow
// along with `GET /api/v1/events?after=ID`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct EventRecord {
  int64_t id = 0;
  std::string kind;            // "push", "run.queued", "run.finished"...
  std::string repository;      // may be empty
  int64_t run_id = 0;          // 0: about no run (stored as NULL)
  std::string payload = "{}";  // JSON text
  int64_t created_ms = 0;      // 0: now
};

// Returns the new id; ids only grow, so a reader resumes after the last one it saw.
Result<int64_t> append_event(Store& store, const EventRecord& event);
// The newest event's id (0 when there is none): where a reader that wants only news starts.
Result<int64_t> latest_event_id(Store& store);
// Events with id > after_id, oldest first, at most `limit`.
Result<std::vector<EventRecord>> list_events(Store& store, int64_t after_id, int limit);

}  // namespace slipway
