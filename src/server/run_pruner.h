// RunPruner: retention in the background for `slipway serve`. One pass at start, after the run
// queue's recovery, then one every `interval`, on its own thread with its own store connection:
// finished runs beyond retention (ci/run_retention.h), then, with a container runtime, the
// images no deployment or task needs any more (cd/image_retention.h). Logged when it removed
// anything; then the data directory is measured for /metrics (server/disk_usage.h). A pass that fails is logged and tried again at the next interval: retention never
// stops the server.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/time.h"
#include "cd/container_runtime.h"
#include "cd/image_retention.h"
#include "server/disk_usage.h"
#include "ci/run_executor.h"
#include "spec/server_config.h"

namespace slipway {

class RunPruner {
 public:
  static constexpr Milliseconds kDefaultInterval{3'600'000};  // hourly: retention counts in days

  // `config`, `containers` (null: no image sweep) and `disk` (null: not measured) must outlive
  // the pruner.
  RunPruner(DataDirectory data, const ServerConfig& config, ContainerRuntime* containers, DiskGauge* disk,
            Milliseconds interval = kDefaultInterval);
  ~RunPruner();  // stop()s

  void start();
  void stop();   // idempotent; waits for a pass in progress to finish

 private:
  void loop();
  void prune_once();

  DataDirectory data_;
  const ServerConfig& config_;
  ContainerRuntime* containers_;
  DiskGauge* disk_;
  Milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Logs what an image sweep removed and any removal the Engine refused.
void log_image_sweep(const Result<ImageSweep>& sweep);

}  // namespace slipway
