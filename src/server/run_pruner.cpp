#include "server/run_pruner.h"

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "base/time.h"
#include "base/worker_stop.h"
#include "cd/image_retention.h"
#include "ci/run_retention.h"

namespace slipway {

RunPruner::RunPruner(DataDirectory data, const ServerConfig& config, ContainerRuntime* containers, DiskGauge* disk,
                     Milliseconds interval)
    : data_(std::move(data)), config_(config), containers_(containers), disk_(disk), interval_(interval) {}

RunPruner::~RunPruner() { stop(); }

void RunPruner::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void RunPruner::stop() { stop_worker(mutex_, wake_, stopping_, thread_); }

void RunPruner::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    prune_once();
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void RunPruner::prune_once() {
  auto store = Store::open(data_.database());
  if (!store) return spdlog::warn("retention: {}", store.error().message);
  int64_t started_ms = now_ms();
  bool removed = false;
  auto report = prune_runs(**store, data_, config_);
  if (!report) {
    spdlog::warn("retention: {} (tried again in {})", report.error().message, format_duration(interval_));
  } else {
    for (const std::string& problem : report->problems) spdlog::warn("retention: {}", problem);
    if (!report->runs.empty() || !report->leftovers.empty()) {
      removed = true;
      spdlog::info("retention: removed {} finished runs and {} leftover run folders ({})", report->runs.size(),
                   report->leftovers.size(), format_byte_size(report->bytes));
    }
  }
  if (containers_) {
    auto sweep = remove_unused_images(**store, *containers_);
    removed = removed || (sweep && !sweep->removed.empty());
    log_image_sweep(sweep);
  }
  // The walk is not free: skipped when nothing was removed and the last measure is younger than
  // an interval (the one serve made at start, just before this first pass).
  if (disk_ && (removed || started_ms - disk_->get().measured_ms >= interval_.count())) {
    disk_->set(measure_disk_usage(data_));
  }
}

void log_image_sweep(const Result<ImageSweep>& sweep) {
  if (!sweep) return spdlog::warn("image retention: {}", sweep.error().message);
  for (const std::string& problem : sweep->problems) spdlog::warn("image retention: {}", problem);
  if (sweep->removed.empty()) return;
  spdlog::info("image retention: removed {} image{} no deployment or task needs ({} kept)", sweep->removed.size(),
               sweep->removed.size() == 1 ? "" : "s", sweep->kept);
}

}  // namespace slipway
