// ForgeStatuses: commit statuses back to the forge (a repository's `status:`), through the
// durable outbox (store/outbox.h). A feeder thread turns run events from the event log into
// status rows — "slipway/test" pending when the run is queued, pending "running" when it starts,
// and at its end one row per job with the job's outcome and a one-line description — moving
// its cursor in the same transaction, so a restart neither loses nor repeats one. A sender
// thread delivers each repository's rows in order with the forge's token (a server secret, read
// at each delivery so a rotated token needs no restart), retrying with growing pauses (1 s, 2 s,
// … 5 min) until `outbox_retry_for` has passed; deliveries and failures are events
// ("status.delivered", "status.failed"). Nothing here ever waits on a run, nor a run on it.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "spec/server_config.h"

namespace slipway {

class ForgeStatuses {
 public:
  ForgeStatuses(const ServerConfig& config, std::filesystem::path database, std::string master_key);
  ~ForgeStatuses();  // stop()s

  // Starts the threads when a repository has `status:`. The first start begins with the events
  // after the newest one present (no statuses for history); later starts resume at the cursor.
  Status start();
  void stop();

 private:
  void feed_loop();
  void send_loop();

  const ServerConfig& config_;
  std::filesystem::path database_;
  std::string master_key_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool rows_added_ = false;  // the feeder added rows: the sender looks at once
  std::thread feeder_, sender_;
};

}  // namespace slipway
