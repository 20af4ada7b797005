#include "server/run_pruner.h"

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "ci/run_retention.h"

namespace slipway {

RunPruner::RunPruner(DataDirectory data, const ServerConfig& config, Milliseconds interval)
    : data_(std::move(data)), config_(config), interval_(interval) {}

RunPruner::~RunPruner() { stop(); }

void RunPruner::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void RunPruner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

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
  auto report = prune_runs(**store, data_, config_);
  if (!report) return spdlog::warn("retention: {} (tried again in {})", report.error().message, format_duration(interval_));
  for (const std::string& problem : report->problems) spdlog::warn("retention: {}", problem);
  if (report->runs.empty() && report->leftovers.empty()) return;
  spdlog::info("retention: removed {} finished runs and {} leftover run folders ({})", report->runs.size(),
               report->leftovers.size(), format_byte_size(report->bytes));
}

}  // namespace slipway
