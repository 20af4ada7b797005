#include "server/metrics.h"

#include <fmt/core.h>

#include "server/api_json.h"
#include "store/outbox.h"
#include "store/run_statistics.h"

namespace slipway {

namespace {

// Steps range from a `true` (milliseconds) to long test suites (tens of minutes).
const std::vector<double> kStepBuckets = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600};

void append_run_counts(std::string& out, const std::map<std::string, int64_t>& counts) {
  out += "# HELP slipway_runs Runs in the store, by status.\n# TYPE slipway_runs gauge\n";
  std::map<std::string, int64_t> all;  // every status a run can have, so a series exists before its first run
  for (RunStatus status : kRunStatuses) {
    if (status != RunStatus::skipped) all[std::string(to_text(status))] = 0;  // jobs and steps only
  }
  for (const auto& [status, count] : counts) all[status] = count;
  for (const auto& [status, count] : all) out += fmt::format("slipway_runs{{status=\"{}\"}} {}\n", status, count);
}

void append_queue(std::string& out, const QueueStats& queue) {
  out += fmt::format("# HELP slipway_queue_length Runs waiting for a free slot.\n# TYPE slipway_queue_length gauge\n"
                     "slipway_queue_length {}\n", queue.queued);
  out += fmt::format("# HELP slipway_runs_running Runs executing now.\n# TYPE slipway_runs_running gauge\n"
                     "slipway_runs_running {}\n", queue.running);
  out += fmt::format("# HELP slipway_run_concurrency Runs allowed at once.\n# TYPE slipway_run_concurrency gauge\n"
                     "slipway_run_concurrency {}\n", queue.concurrency);
}

void append_histogram(std::string& out, const DurationHistogram& histogram) {
  out += "# HELP slipway_step_duration_seconds How long finished steps took.\n"
         "# TYPE slipway_step_duration_seconds histogram\n";
  for (size_t i = 0; i < histogram.upper_bounds_seconds.size(); ++i) {
    out += fmt::format("slipway_step_duration_seconds_bucket{{le=\"{}\"}} {}\n", histogram.upper_bounds_seconds[i],
                       histogram.cumulative_counts[i]);
  }
  out += fmt::format("slipway_step_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", histogram.count);
  out += fmt::format("slipway_step_duration_seconds_sum {}\nslipway_step_duration_seconds_count {}\n",
                     histogram.sum_seconds, histogram.count);
}

void append_http(std::string& out, const HttpMetrics& http) {
  out += "# HELP slipway_http_requests_total HTTP responses, by status code.\n"
         "# TYPE slipway_http_requests_total counter\n";
  for (int status = 100; status < HttpMetrics::kMaxStatus; ++status) {
    if (int64_t n = http.count(status)) out += fmt::format("slipway_http_requests_total{{code=\"{}\"}} {}\n", status, n);
  }
}

void append_outbox(std::string& out, const std::vector<OutboxCount>& counts) {
  out += "# HELP slipway_outbox_items Deliveries to the outside (forge statuses, chat notices), by channel and state.\n"
         "# TYPE slipway_outbox_items gauge\n";
  for (const OutboxCount& count : counts) {
    out += fmt::format("slipway_outbox_items{{channel=\"{}\",state=\"{}\"}} {}\n", count.channel, to_text(count.state), count.count);
  }
}

}  // namespace

void HttpMetrics::record(int status) {
  if (status >= 0 && status < kMaxStatus) by_status_[static_cast<size_t>(status)].fetch_add(1, std::memory_order_relaxed);
}

int64_t HttpMetrics::count(int status) const {
  if (status < 0 || status >= kMaxStatus) return 0;
  return by_status_[static_cast<size_t>(status)].load(std::memory_order_relaxed);
}

Result<std::string> render_metrics(Store& store, const QueueStats& queue, const HttpMetrics& http) {
  auto counts = count_runs_by_status(store);
  if (!counts) return counts.error();
  auto histogram = step_duration_histogram(store, kStepBuckets);
  if (!histogram) return histogram.error();
  std::string out;
  append_run_counts(out, *counts);
  append_queue(out, queue);
  append_histogram(out, *histogram);
  append_http(out, http);
  auto outbox = count_outbox(store);
  if (!outbox) return outbox.error();
  append_outbox(out, *outbox);
  return out;
}

void add_metrics_route(Router& router, ApiContext& context, const HttpMetrics& http, const DiskGauge& disk) {
  router.add("GET", "/metrics", context.read_role(), [&context, &http, &disk](HttpRequest&) {
    return with_store(context.stores, [&](Store& store) {
      auto text = render_metrics(store, context.queue.stats(), http);
      if (!text) return server_error(text.error());
      *text += disk_usage_metrics(disk.get());
      return HttpResponse::text(200, std::move(*text), "text/plain; version=0.0.4; charset=utf-8");
    });
  });
}

}  // namespace slipway
