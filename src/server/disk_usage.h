// DiskUsage: what Slipway's data directory takes on disk, by area — run folders (step logs,
// reports, workspaces of runs in progress), task runs' logs, repository mirrors, the workers'
// workspace templates (ci/workspace_template.h), the database —
// measured by walking the folders (base/files.h folder_bytes). Walking costs a moment on a large
// directory, so the server measures at start (the start-up line) and after each retention pass
// (but the first, right after start, unless it removed something), and /metrics reports the
// last measure (DiskGauge) instead of walking per scrape.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "ci/run_executor.h"

namespace slipway {

struct DiskUsage {
  uint64_t runs = 0, task_runs = 0, mirrors = 0, templates = 0, database = 0;
  uint64_t total = 0;       // the whole data directory, the areas above included
  int64_t measured_ms = 0;  // 0: never measured
};

DiskUsage measure_disk_usage(const DataDirectory& data);

// "data 1.2 GiB: runs 1.0 GiB, task runs 12 MiB, mirrors 150 MiB, database 3.0 MiB"
std::string describe_disk_usage(const DiskUsage& usage);

// slipway_disk_bytes{area="..."} lines for /metrics; nothing before the first measure.
std::string disk_usage_metrics(const DiskUsage& usage);

// The last measure, shared between the pass that measures and the /metrics route.
class DiskGauge {
 public:
  void set(const DiskUsage& usage) {
    std::lock_guard lock(mutex_);
    usage_ = usage;
  }
  DiskUsage get() const {
    std::lock_guard lock(mutex_);
    return usage_;
  }

 private:
  mutable std::mutex mutex_;
  DiskUsage usage_;
};

}  // namespace slipway
