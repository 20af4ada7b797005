#include "server/outbox_worker.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/secret_masker.h"
#include "base/worker_stop.h"
#include "store/sqlite_database.h"
#include "store/store.h"

namespace slipway {
namespace {

// One delivery's outcome, handed from its thread back to the sender loop, which alone writes
// the row (one connection, no write contention between deliveries).
struct Attempt {
  OutboxItem item;
  Status sent;
};

// POSTs (or whatever the kind asked for) and judges the answer: a transport error or a non-2xx
// answer is a failed attempt, named with the start of the body (a forge or Slack says why).
Status send(const OutboxRequest& prepared, Milliseconds timeout) {
  HttpClient http;
  HttpClientRequest request = prepared.request;
  request.timeout = timeout;
  request.connect_timeout = std::min(request.connect_timeout, timeout);
  SecretMasker masker(prepared.hidden);
  auto answer = http.send(request);
  if (!answer) return make_error(masker.mask(answer.error().message));
  if (answer->status >= 200 && answer->status <= 299) return {};
  // Masked before the cut, which could otherwise leave the start of a hidden value unrecognised.
  std::string said = masker.mask(std::string_view(answer->body).substr(0, 4096)).substr(0, 200);
  return make_error(fmt::format("HTTP {}{}{}", answer->status, said.empty() ? "" : ": ", said));
}

}  // namespace

struct OutboxWorker::Impl {
  OutboxWorkerOptions options;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool rows_added = false;           // the feeder added rows: the sender looks at once
  std::vector<Attempt> finished;     // deliveries done, for the sender loop to record
  std::thread feeder, sender;

  explicit Impl(OutboxWorkerOptions o) : options(std::move(o)) {}

  void feed_loop();
  Result<int> feed_pass(Store& store, const OutboxFeeder& feeder);
  void send_loop();
  void conclude(Store& store, const Attempt& attempt);
  const OutboxKind* kind_of(const OutboxItem& item) const;
  int64_t backoff_ms(int attempts) const {
    return std::min<int64_t>(options.max_backoff.count(), int64_t{1000} << std::min(attempts, 20));
  }
};

const OutboxKind* OutboxWorker::Impl::kind_of(const OutboxItem& item) const {
  for (const OutboxKind& kind : options.kinds) {
    if (kind.kind == item.kind) return &kind;
  }
  return nullptr;
}

// The events after the cursor become rows, and the cursor moves past them, in one transaction.
Result<int> OutboxWorker::Impl::feed_pass(Store& store, const OutboxFeeder& feeder) {
  int added = 0;
  Status fed = store.database().transaction([&]() -> Status {
    auto cursor = load_outbox_cursor(store, feeder.cursor);
    if (!cursor) return cursor.error();
    auto events = list_events(store, *cursor, 200);
    if (!events) return events.error();
    if (events->empty()) return {};
    for (const EventRecord& event : *events) {
      auto rows = feeder.feed(store, event);
      if (!rows) return make_error(fmt::format("event #{} ({}): {}", event.id, event.kind, rows.error().message));
      added += *rows;
    }
    return save_outbox_cursor(store, feeder.cursor, events->back().id);
  });
  if (!fed) return fed.error();
  return added;
}

// Each poll first reads the newest event id and each cursor, without a lock on the database:
// a feeder opens its (write) transaction only when the log has moved past its cursor, so an
// idle server polls without ever taking the writers' lock from the runs.
void OutboxWorker::Impl::feed_loop() {
  auto store = Store::open(options.database);
  if (!store) return spdlog::error("outbox: {}", store.error().message);
  std::unique_lock lock(mutex);
  while (!stopping) {
    lock.unlock();
    int added = 0;
    auto latest = latest_event_id(**store);
    if (!latest) spdlog::warn("outbox: {}", latest.error().message);
    for (const OutboxFeeder& feeder : options.feeders) {
      auto cursor = latest ? load_outbox_cursor(**store, feeder.cursor) : Result<int64_t>(latest.error());
      if (cursor && *cursor >= *latest) continue;
      auto rows = feed_pass(**store, feeder);
      if (!rows) spdlog::warn("outbox {}: {}", feeder.cursor, rows.error().message);
      added += rows ? *rows : 0;
    }
    lock.lock();
    if (added > 0) {
      rows_added = true;
      wake.notify_all();
    }
    wake.wait_for(lock, options.poll_interval, [&] { return stopping; });
  }
}

namespace {

// The event that tells of a delivery or a give-up, for the event log.
EventRecord delivery_event(const OutboxKind& kind, const OutboxItem& item, const Status& sent, const std::string& outcome) {
  nlohmann::json payload = kind.describe ? kind.describe(item) : nlohmann::json::object();
  payload["channel"] = item.channel;
  payload["attempts"] = item.attempts + 1;
  if (!sent) payload["error"] = sent.error().message;
  std::string repository = payload.contains("repository") && payload["repository"].is_string()
                               ? payload["repository"].get<std::string>() : "";
  return {0, kind.events + "." + outcome, repository, 0,
          payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0};
}

}  // namespace

// Records an attempt: delivered, given up once `retry_for` has passed since the row was
// written, or due again after a pause that grows with its attempts. A row's new state and the
// event that tells of it are written in one transaction.
void OutboxWorker::Impl::conclude(Store& store, const Attempt& attempt) {
  const OutboxItem& item = attempt.item;
  const OutboxKind* kind = kind_of(item);
  int64_t now = now_ms();
  if (!attempt.sent && now - item.created_ms < options.retry_for.count()) {
    Status marked = mark_outbox_retry(store, item.id, attempt.sent.error().message, now + backoff_ms(item.attempts));
    if (!marked) spdlog::warn("outbox: {}", marked.error().message);
    return;
  }
  std::string outcome = attempt.sent ? "delivered" : "failed";
  if (!attempt.sent) {
    spdlog::warn("outbox {}: gave up on #{} after {} attempts: {}", item.channel, item.id, item.attempts + 1,
                 attempt.sent.error().message);
  }
  Status recorded = store.database().transaction([&]() -> Status {
    Status marked = attempt.sent ? mark_outbox_delivered(store, item.id)
                                 : mark_outbox_failed(store, item.id, attempt.sent.error().message);
    if (!marked || !kind || kind->events.empty()) return marked;
    auto appended = append_event(store, delivery_event(*kind, item, attempt.sent, outcome));
    return appended ? Status{} : Status(appended.error());
  });
  if (!recorded) spdlog::warn("outbox {}: #{}: {}", item.channel, item.id, recorded.error().message);
}

// Each pass: record the deliveries that finished, then start one for every channel whose oldest
// pending row is due and which has none in flight. Sleeps until a row is added, a delivery
// finishes, or the next attempt is due (at most a second).
void OutboxWorker::Impl::send_loop() {
  auto store = Store::open(options.database);
  if (!store) return spdlog::error("outbox: {}", store.error().message);
  std::map<int64_t, std::thread> deliveries;  // by row id
  std::set<std::string> busy;                 // channels with a delivery in flight
  std::unique_lock lock(mutex);
  for (;;) {
    std::vector<Attempt> done = std::move(finished);
    finished.clear();
    bool stop_now = stopping;
    lock.unlock();
    for (const Attempt& attempt : done) {
      deliveries.at(attempt.item.id).join();
      deliveries.erase(attempt.item.id);
      busy.erase(attempt.item.channel);
      conclude(**store, attempt);
    }
    if (stop_now && deliveries.empty()) return;
    auto due = stop_now ? Result<std::vector<OutboxItem>>(std::vector<OutboxItem>{}) : due_outbox_items(**store, now_ms());
    if (!due) spdlog::warn("outbox: {}", due.error().message);
    for (const OutboxItem& item : due ? *due : std::vector<OutboxItem>{}) {
      if (busy.count(item.channel) || busy.size() >= options.max_in_flight) continue;
      const OutboxKind* kind = kind_of(item);
      auto prepared = kind ? kind->prepare(**store, item)
                           : Result<OutboxRequest>(make_error(fmt::format("nothing delivers a '{}' row", item.kind)));
      if (!prepared) {
        conclude(**store, {item, prepared.error()});
        continue;
      }
      busy.insert(item.channel);
      deliveries.emplace(item.id, std::thread([this, item, request = std::move(*prepared)] {
        Status sent = send(request, options.request_timeout);
        std::lock_guard guard(mutex);
        finished.push_back({item, std::move(sent)});
        wake.notify_all();
      }));
    }
    auto next = next_outbox_attempt_ms(**store);
    int64_t wait = next && *next > now_ms() ? std::min<int64_t>(*next - now_ms(), 1000) : 1000;
    lock.lock();
    if (stop_now) {  // only the deliveries in flight are left to wait for
      wake.wait_for(lock, std::chrono::seconds(1), [&] { return !finished.empty(); });
      continue;
    }
    wake.wait_for(lock, std::chrono::milliseconds(wait),
                  [&] { return stopping || rows_added || !finished.empty(); });
    rows_added = false;
  }
}

OutboxWorker::OutboxWorker(OutboxWorkerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

OutboxWorker::~OutboxWorker() { stop(); }

Status OutboxWorker::start() {
  if (impl_->options.feeders.empty() || impl_->feeder.joinable()) return {};
  auto store = Store::open(impl_->options.database);
  if (!store) return store.error();
  for (const OutboxFeeder& feeder : impl_->options.feeders) {
    auto cursor = load_outbox_cursor(**store, feeder.cursor);
    if (!cursor) return cursor.error();
    if (*cursor >= 0) continue;
    auto latest = latest_event_id(**store);
    if (!latest) return latest.error();
    if (Status saved = save_outbox_cursor(**store, feeder.cursor, *latest); !saved) return saved;
  }
  impl_->stopping = false;
  impl_->feeder = std::thread([this] { impl_->feed_loop(); });
  impl_->sender = std::thread([this] { impl_->send_loop(); });
  return {};
}

void OutboxWorker::stop() {
  stop_worker(impl_->mutex, impl_->wake, impl_->stopping, impl_->feeder, impl_->sender);
}

}  // namespace slipway
