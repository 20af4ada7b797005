// RunPruner: retention in the background for `slipway serve`. One pass (ci/run_retention.h) at
// start, after the run queue's recovery, then one every `interval`; each on its own thread with
// its own store connection, logged when it removed anything. A pass that fails is logged and
// tried again at the next interval: retention never stops the server.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/time.h"
#include "ci/local_run.h"
#include "spec/server_config.h"

namespace slipway {

class RunPruner {
 public:
  static constexpr Milliseconds kDefaultInterval{3'600'000};  // hourly: retention counts in days

  // `config` must outlive the pruner.
  RunPruner(DataDirectory data, const ServerConfig& config, Milliseconds interval = kDefaultInterval);
  ~RunPruner();  // stop()s

  void start();
  void stop();   // idempotent; waits for a pass in progress to finish

 private:
  void loop();
  void prune_once();

  DataDirectory data_;
  const ServerConfig& config_;
  Milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slipway
