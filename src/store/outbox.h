// The outbox: what Slipway tells the outside (forge commit statuses), as durable rows, so that
// a forge that is down for hours or a server restart loses nothing. Each row belongs to a
// channel ("status:web"); a channel's rows are delivered one at a time in id order — a status
// never overtakes the one before it — while channels are independent. A row is pending until
// delivered, or failed once its sender gives up; attempts, the next attempt's time and the last
// error are kept for people to read (`GET /api/v1/outbox`, /metrics).
//
// Feeders fill it from the event log: outbox_cursors remembers, per feeder, the last event it
// turned into rows, and moves in the same transaction as those rows, so each event yields its
// rows exactly once across crashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

// Where a row stands; text only in the outbox table, the API's answer and /metrics.
enum class OutboxState { pending, delivered, failed };
std::string_view to_text(OutboxState state);
// A text this version does not know reads as failed: never sent again.
OutboxState outbox_state_from_text(std::string_view text);

struct OutboxItem {
  int64_t id = 0;
  std::string channel;
  std::string kind;            // "forge_status"
  std::string payload;         // JSON: what to send, never a credential
  int64_t created_ms = 0;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  OutboxState state = OutboxState::pending;
  int64_t finished_ms = 0;
  std::string last_error;
};

struct OutboxCount {
  std::string channel;
  OutboxState state = OutboxState::pending;
  int64_t count = 0;
  int64_t oldest_pending_ms = 0;  // created_ms of the channel's oldest pending row, else 0
};

Result<int64_t> add_outbox_item(Store& store, const std::string& channel, const std::string& kind,
                                const std::string& payload);
// Each channel's oldest pending row, when its next attempt is due at `now_ms`.
Result<std::vector<OutboxItem>> due_outbox_items(Store& store, int64_t now_ms);
// The earliest next attempt among the channels' oldest pending rows; 0 when none is pending.
Result<int64_t> next_outbox_attempt_ms(Store& store);
Status mark_outbox_delivered(Store& store, int64_t id);
Status mark_outbox_retry(Store& store, int64_t id, const std::string& error, int64_t next_attempt_ms);
Status mark_outbox_failed(Store& store, int64_t id, const std::string& error);
// Rows by channel and state, for the API and /metrics.
Result<std::vector<OutboxCount>> count_outbox(Store& store);
// The newest rows of a state (e.g. the failed ones), newest first.
Result<std::vector<OutboxItem>> list_outbox(Store& store, OutboxState state, int limit);

// A feeder's last event id; -1 when it never ran (0: it ran when the log was empty).
Result<int64_t> load_outbox_cursor(Store& store, const std::string& name);
Status save_outbox_cursor(Store& store, const std::string& name, int64_t event_id);

}  // namespace slipway
