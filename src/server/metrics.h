// /metrics in the Prometheus text format: runs by status, the queue, step durations (a
// histogram computed in SQL from the steps table) and HTTP responses by status code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "ci/run_queue.h"
#include "server/api_routes.h"
#include "server/disk_usage.h"

namespace slipway {

// Responses counted by status code; lock-free, called once per request.
class HttpMetrics {
 public:
  void record(int status);
  int64_t count(int status) const;
  static constexpr int kMaxStatus = 600;

 private:
  std::array<std::atomic<int64_t>, kMaxStatus> by_status_{};
};

Result<std::string> render_metrics(Store& store, const QueueStats& queue, const HttpMetrics& http);

// GET /metrics, readable by the read-only role (or anonymously when anonymous_read).
void add_metrics_route(Router& router, ApiContext& context, const HttpMetrics& http, const DiskGauge& disk);

}  // namespace slipway
