// OutboxWorker: the one engine through which Slipway tells the outside what happened — forge
// commit statuses and chat notices alike — over the durable outbox (store/outbox.h).
//
// Feeders turn events of the event log into outbox rows. Each feeder has a cursor; a pass reads
// the events after it, adds their rows and moves the cursor in one transaction, so an event
// yields its rows exactly once across crashes and restarts: a row is as durable as the event it
// reports, written before anything is sent. (The event itself is written in the transaction of
// the state change it reports, e.g. a deployment entering "switching".)
//
// The sender delivers each channel's rows one at a time in id order — a notice never overtakes
// the one before it on its channel — while channels go concurrently, each delivery on its own
// short-lived thread, so a channel that hangs holds up only itself. A failed attempt is retried
// with growing pauses (1 s, 2 s, … 5 min) until `retry_for` has passed since the row was
// written, then the row is given up ("failed"). Deliveries and give-ups are events
// ("<events>.delivered", "<events>.failed"). Nothing here ever waits on a run, nor a run on it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "base/result.h"
#include "base/time.h"
#include "store/events.h"
#include "store/outbox.h"

namespace slipway {

struct OutboxFeeder {
  std::string cursor;  // its row in outbox_cursors ("forge_statuses", "chat_notices")
  // Adds the rows `event` asks for (add_outbox_item); called inside the feed transaction, so an
  // error rolls the pass back and it is tried again from the same cursor. Returns rows added.
  std::function<Result<int>(Store&, const EventRecord&)> feed;
};

// One row on the wire. `hidden` values never reach an error, a log or an event: a chat
// webhook's URL carries its token.
struct OutboxRequest {
  HttpClientRequest request;
  std::vector<std::string> hidden;
};

struct OutboxKind {
  std::string kind;    // the OutboxItem::kind it delivers
  std::string events;  // "status" → "status.delivered" / "status.failed"
  // The request for a row, built at each attempt: credentials are read then, so a rotated
  // secret needs no restart. An error counts as a failed attempt.
  std::function<Result<OutboxRequest>(Store&, const OutboxItem&)> prepare;
  // What the delivery's event says about the row (channel, attempts and error are added). A
  // string "repository" member becomes the event's repository.
  std::function<nlohmann::json(const OutboxItem&)> describe;
};

struct OutboxWorkerOptions {
  std::filesystem::path database;
  std::vector<OutboxFeeder> feeders;
  std::vector<OutboxKind> kinds;
  Milliseconds retry_for{std::chrono::hours(24)};
  Milliseconds request_timeout{10'000};
  Milliseconds poll_interval{25};   // how often feeders look for new events
  Milliseconds max_backoff{5 * 60'000};
  size_t max_in_flight = 16;        // channels delivering at once
};

class OutboxWorker {
 public:
  explicit OutboxWorker(OutboxWorkerOptions options);
  ~OutboxWorker();  // stop()s

  // Starts the feeder and sender threads when there is a feeder (no threads otherwise). A
  // feeder's first start begins after the newest event present — no rows for history; later
  // starts resume at its cursor.
  Status start();
  // Waits for the deliveries in flight (each bounded by request_timeout); idempotent.
  void stop();

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
