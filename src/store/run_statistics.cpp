#include "store/run_statistics.h"

#include "store/store_impl.h"

namespace slipway {

Result<std::map<std::string, int64_t>> count_runs_by_status(Store& store) {
  std::map<std::string, int64_t> counts;
  Status read = store.database()
                    .stmt("SELECT status, COUNT(*) FROM runs GROUP BY status")
                    .fetch<std::string, int64_t>([&](std::string status, int64_t n) { counts[status] = n; });
  if (!read) return store_error("count runs by status", read.error().message);
  return counts;
}

Result<DurationHistogram> step_duration_histogram(Store& store, const std::vector<double>& upper_bounds_seconds) {
  // One pass: SUM(duration <= bound) per bucket; the bounds are our own numbers, not input.
  std::string buckets;
  for (double bound : upper_bounds_seconds) {
    buckets += fmt::format(", IFNULL(SUM(finished_ms - started_ms <= {}), 0)", static_cast<int64_t>(bound * 1000));
  }
  std::string sql = fmt::format(
      "SELECT COUNT(*), IFNULL(SUM(finished_ms - started_ms), 0){} FROM steps "
      "WHERE started_ms > 0 AND finished_ms >= started_ms",
      buckets);
  DurationHistogram histogram;
  histogram.upper_bounds_seconds = upper_bounds_seconds;
  Status read = store.database().stmt(sql).each([&](const Row& row) {
    histogram.count = row.integer(0);
    histogram.sum_seconds = static_cast<double>(row.integer(1)) / 1000.0;
    for (size_t i = 0; i < upper_bounds_seconds.size(); ++i) {
      histogram.cumulative_counts.push_back(row.integer(static_cast<int>(i) + 2));
    }
  });
  if (!read) return store_error("step duration histogram", read.error().message);
  return histogram;
}

}  // namespace slipway
