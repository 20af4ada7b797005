// JobLimits: the resources one test job may use. The server's configuration sets the ceiling
// (`limits:`), a repository's `test.limits` may only lower it; ci/job_limits.h enforces them.
#pragma once

#include <algorithm>
#include <cstdint>

namespace slipway {

struct JobLimits {
  int64_t memory_bytes = 0;  // 0: no limit
  int64_t pids = 0;          // processes and threads at once; 0: no limit
  int64_t tmp_bytes = 0;     // the private /tmp and $HOME together; 0: no limit
  double cpus = 0;           // CPU time per wall second, in cores; 0: no limit
};

// What a server (and `slipway run`) uses when its configuration names no limits.
inline JobLimits default_job_limits() { return JobLimits{int64_t{4} << 30, 2048, int64_t{1} << 30, 2}; }

// Each limit of `requested` that is set and lower than `ceiling`'s wins: a repository may only
// lower the server's limits, never raise or remove them.
inline JobLimits lower_limits(const JobLimits& ceiling, const JobLimits& requested) {
  auto lower = [](auto limit, auto wanted) {
    if (wanted <= 0) return limit;
    return limit <= 0 ? wanted : std::min(limit, wanted);
  };
  return JobLimits{lower(ceiling.memory_bytes, requested.memory_bytes), lower(ceiling.pids, requested.pids),
                   lower(ceiling.tmp_bytes, requested.tmp_bytes), lower(ceiling.cpus, requested.cpus)};
}

}  // namespace slipway
