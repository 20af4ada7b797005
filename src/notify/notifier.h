// Notifier: delivers ChatNotices to chat channels in the background. send() only queues and
// returns at once, so a slow or dead channel never holds up a deployment; a failed delivery
// (connection error, timeout, non-2xx) is retried with growing pauses, then given up with a
// warning in the server log. Notices to one channel are delivered in the order they were sent.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "notify/chat_message.h"

namespace slipway {

struct ChatChannel {
  std::string kind;          // "slack" (blocks payload) | "webhook" (generic JSON)
  std::string url;           // the resolved URL (from the secret the config names)
  std::string name;          // for logs: the secret's name, never the URL (it holds a token)
};

struct NotifierOptions {
  int attempts = 5;                          // deliveries tried per notice and channel
  Milliseconds first_retry{500};             // then doubled each time, at most max_retry
  Milliseconds max_retry{8'000};
  Milliseconds request_timeout{5'000};
  size_t queue_limit = 10'000;               // beyond it the oldest queued notice is dropped (logged)
};

struct NotifierStats {
  int64_t delivered = 0;     // notice × channel deliveries that got a 2xx
  int64_t retried = 0;       // failed attempts that were tried again
  int64_t given_up = 0;      // deliveries abandoned after the last attempt
  int64_t dropped = 0;       // notices dropped because the queue was full
  size_t queued = 0;         // waiting now
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options = {});
  ~Notifier();  // stop()s

  // Queues the notice for each channel; never blocks on the network.
  void send(const std::vector<ChatChannel>& channels, const ChatNotice& notice);

  // Waits until nothing is queued or in flight, or `timeout` passes. True when drained.
  bool flush(Milliseconds timeout);

  NotifierStats stats() const;

  // Stops the delivery thread; what is still queued is given one last attempt within 2 s, then
  // dropped (logged). Idempotent.
  void stop();

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
