#include "notify/notifier.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/http_client.h"
#include "base/secret_masker.h"

namespace slipway {

// One worker thread per channel (distinct kind + URL). The trade-off: a thread and a keep-alive
// connection per channel, instead of a shared pool. A configuration names a handful of channels,
// so the threads are cheap, and the guarantee is simple: a dead channel spends up to `attempts`
// timeouts plus pauses on each notice, and only its own thread waits for it. A pool would need
// per-channel fairness rules to give the same guarantee, and would still starve once every pool
// thread sat on a dead channel.
//
// One mutex guards all queues and the counters; it is never held during a request or a pause.
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Delivery {
  std::string event;  // for logs: the title may be long and is no one's business in a server log
  std::string body;
};

struct ChannelWorker {
  ChatChannel channel;
  std::deque<Delivery> queue;
  bool busy = false;  // a delivery is in flight or pausing before its next attempt
  std::condition_variable wake;
  std::thread thread;
};

// Slack and webhook URLs carry their token in the path: a transport error (which names the URL)
// or an answer echoing it must not leak it to the log, so it is masked like any other secret, in
// every form (the log line names the channel).
std::string without_url(std::string_view message, const ChatChannel& channel) {
  return SecretMasker({channel.url}).mask(message);
}

// One POST. Error on a transport failure or a non-2xx answer (its status and the start of its body:
// Slack says why, e.g. "invalid_payload" or "no_service").
Status post(HttpClient& client, const ChatChannel& channel, const std::string& body, Milliseconds timeout) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = channel.url;
  request.headers.set("Content-Type", "application/json");
  request.body = body;
  request.timeout = timeout;
  request.connect_timeout = std::min(request.connect_timeout, timeout);
  auto response = client.send(request);
  if (!response) return make_error(without_url(response.error().message, channel));
  if (response->status < 200 || response->status > 299) {
    // Masked before the cut, which could otherwise leave the start of the URL unrecognised.
    std::string said = without_url(std::string_view(response->body).substr(0, 4096), channel).substr(0, 200);
    return make_error(fmt::format("HTTP {}{}{}", response->status, said.empty() ? "" : ": ", said));
  }
  return {};
}

}  // namespace

struct Notifier::Impl {
  NotifierOptions options;
  mutable std::mutex mutex;
  std::condition_variable drained;  // signalled whenever a worker becomes idle
  std::map<std::string, std::unique_ptr<ChannelWorker>> workers;  // by kind + " " + url
  NotifierStats stats;
  bool stopping = false;
  SteadyClock::time_point stop_deadline;  // set by stop(): the end of the last-attempt window
  std::mutex stop_mutex;                  // makes stop() idempotent when called concurrently
  bool stopped = false;

  ChannelWorker& worker_for(const ChatChannel& channel);
  void run(ChannelWorker& worker);
  void deliver(ChannelWorker& worker, HttpClient& client, const Delivery& delivery, std::unique_lock<std::mutex>& lock);
  void wait_before_retry(ChannelWorker& worker, Milliseconds pause, std::unique_lock<std::mutex>& lock);
  void drop_rest(ChannelWorker& worker);
  bool idle() const;
};

ChannelWorker& Notifier::Impl::worker_for(const ChatChannel& channel) {
  auto& slot = workers[channel.kind + " " + channel.url];
  if (!slot) {
    slot = std::make_unique<ChannelWorker>();
    slot->channel = channel;
    ChannelWorker* worker = slot.get();
    worker->thread = std::thread([this, worker] { run(*worker); });
  }
  return *slot;
}

void Notifier::Impl::run(ChannelWorker& worker) {
  HttpClient client;  // one per thread: keeps the channel's connection alive between notices
  std::unique_lock lock(mutex);
  for (;;) {
    worker.wake.wait(lock, [&] { return stopping || !worker.queue.empty(); });
    if (worker.queue.empty()) break;
    if (stopping && SteadyClock::now() >= stop_deadline) {
      drop_rest(worker);
      break;
    }
    Delivery delivery = std::move(worker.queue.front());
    worker.queue.pop_front();
    worker.busy = true;
    deliver(worker, client, delivery, lock);
    worker.busy = false;
    drained.notify_all();
  }
  drained.notify_all();
}

// Tries `attempts` times with doubling pauses; once stopping, the attempt under way or the next one
// is the last, and none starts after the stop deadline. Called and returns with `lock` held.
void Notifier::Impl::deliver(ChannelWorker& worker, HttpClient& client, const Delivery& delivery,
                             std::unique_lock<std::mutex>& lock) {
  Milliseconds next_pause = options.first_retry;
  std::string last_error;
  for (int attempt = 1;; ++attempt) {
    bool final_attempt = attempt >= options.attempts || stopping;
    Milliseconds timeout = options.request_timeout;
    if (stopping) {
      timeout = std::min(timeout, std::chrono::duration_cast<Milliseconds>(stop_deadline - SteadyClock::now()));
      if (timeout <= Milliseconds(0)) {
        ++stats.dropped;
        spdlog::warn("notify {}: stopping; dropped the {} notice waiting for another attempt (last error: {})",
                     worker.channel.name, delivery.event, last_error);
        return;
      }
    }
    lock.unlock();
    Status sent = post(client, worker.channel, delivery.body, timeout);
    lock.lock();
    if (sent) {
      ++stats.delivered;
      return;
    }
    last_error = sent.error().message;
    if (final_attempt) break;
    ++stats.retried;
    wait_before_retry(worker, next_pause, lock);
    next_pause = std::min(next_pause * 2, options.max_retry);
  }
  ++stats.given_up;
  spdlog::warn("notify {}: gave up on the {} notice after {} attempts: {}", worker.channel.name, delivery.event,
               std::max(1, options.attempts), last_error);
}

// Waits `pause`, cut short by stop() so that the last attempt happens within its window.
void Notifier::Impl::wait_before_retry(ChannelWorker& worker, Milliseconds pause, std::unique_lock<std::mutex>& lock) {
  worker.wake.wait_for(lock, pause, [&] { return stopping; });
}

void Notifier::Impl::drop_rest(ChannelWorker& worker) {
  if (worker.queue.empty()) return;
  stats.dropped += static_cast<int64_t>(worker.queue.size());
  spdlog::warn("notify {}: stopping; dropped {} undelivered notices", worker.channel.name, worker.queue.size());
  worker.queue.clear();
}

bool Notifier::Impl::idle() const {
  return std::all_of(workers.begin(), workers.end(),
                     [](const auto& entry) { return entry.second->queue.empty() && !entry.second->busy; });
}

Notifier::Notifier(NotifierOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = options; }

Notifier::~Notifier() { stop(); }

void Notifier::send(const std::vector<ChatChannel>& channels, const ChatNotice& notice) {
  ChatNotice stamped = notice;
  if (stamped.at_ms == 0) stamped.at_ms = now_ms();
  std::string slack, webhook;  // rendered once, outside the lock, for every channel of that kind
  std::lock_guard lock(impl_->mutex);
  for (const auto& channel : channels) {
    if (impl_->stopping) {
      ++impl_->stats.dropped;
      spdlog::warn("notify {}: the notifier is stopped; dropped the {} notice", channel.name, notice.event);
      continue;
    }
    std::string* body = channel.kind == "slack" ? &slack : channel.kind == "webhook" ? &webhook : nullptr;
    if (!body) {
      spdlog::warn("notify {}: unknown channel kind '{}' (use slack or webhook); the {} notice is not sent",
                   channel.name, channel.kind, notice.event);
      continue;
    }
    if (body->empty()) *body = channel.kind == "slack" ? slack_payload(stamped) : webhook_payload(stamped);
    ChannelWorker& worker = impl_->worker_for(channel);
    // The limit holds per channel, so a dead channel's backlog never pushes out a healthy one's.
    if (worker.queue.size() >= std::max<size_t>(1, impl_->options.queue_limit)) {
      spdlog::warn("notify {}: {} notices queued; dropped the oldest ({})", channel.name, worker.queue.size(),
                   worker.queue.front().event);
      worker.queue.pop_front();
      ++impl_->stats.dropped;
    }
    worker.queue.push_back(Delivery{notice.event, *body});
    worker.wake.notify_one();
  }
}

bool Notifier::flush(Milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->drained.wait_for(lock, timeout, [&] { return impl_->idle(); });
}

NotifierStats Notifier::stats() const {
  std::lock_guard lock(impl_->mutex);
  NotifierStats stats = impl_->stats;
  for (const auto& [key, worker] : impl_->workers) stats.queued += worker->queue.size();
  return stats;
}

// A delivery already in flight when stop() is called ends within its own request_timeout; every
// later attempt fits in the 2 s window. So stop() returns within max(2 s, request_timeout).
void Notifier::stop() {
  std::lock_guard stop_lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    impl_->stop_deadline = SteadyClock::now() + std::chrono::seconds(2);
    for (auto& [key, worker] : impl_->workers) worker->wake.notify_all();
  }
  // No worker is added once stopping is set (send() refuses), so the map is stable here.
  for (auto& [key, worker] : impl_->workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  impl_->stopped = true;
}

}  // namespace slipway
