// Aggregates over runs and steps for /metrics: how many runs are in each status, and how long
// finished steps took, bucketed in SQL so no step rows are carried out of the database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

// {"passed": 12, "failed": 3, ...}; statuses with no runs are absent.
Result<std::map<std::string, int64_t>> count_runs_by_status(Store& store);

struct DurationHistogram {
  std::vector<double> upper_bounds_seconds;   // ascending, as asked for
  std::vector<int64_t> cumulative_counts;     // steps with duration <= each bound
  int64_t count = 0;                          // every finished step
  double sum_seconds = 0;
};

// Finished steps (started and finished both recorded) bucketed by `upper_bounds_seconds`.
Result<DurationHistogram> step_duration_histogram(Store& store, const std::vector<double>& upper_bounds_seconds);

}  // namespace slipway
