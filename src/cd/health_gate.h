// HealthGate: decides whether a new version may take traffic (N consecutive successes) and
// whether it still deserves it during the bake. A check is an HTTP GET of the health path on
// 127.0.0.1:PORT within the timeout, plus the container's own state: exited or a HEALTHCHECK
// saying "unhealthy" fails at once, "starting" is not yet a success.
//
// Trade-off: before the first HTTP answer, a refused connection means "still starting" and does
// not count against the version (a slow start is not a failure) until `start_timeout`; once the
// application answers, `unhealthy` consecutive failed checks fail it. An explicit error answer
// (503) counts from the very first check, so a broken version is rolled back in seconds.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "cd/container_runtime.h"
#include "spec/repository_spec.h"

namespace slipway {

// One check's outcome, for step messages and the benchmark.
struct HealthCheckResult {
  bool healthy = false;
  bool answered = false;       // an HTTP answer came back (any status)
  int status = 0;              // the HTTP status, 0 when none
  std::string detail;          // "200 in 2.1 ms", "connection refused", "container exited (code 1)"
  bool fatal = false;          // the container exited or its HEALTHCHECK says unhealthy
};

struct HealthTarget {
  int port = 0;                 // 127.0.0.1:port
  std::string container;        // name or id, for the container's own state; "" to skip it
};

struct GateOutcome {
  bool passed = false;
  int checks = 0;               // how many checks were made
  std::string reason;           // why it failed ("3 failed checks: 503, 503, 503"), or a summary
};

class HealthGate {
 public:
  // `containers` may be null (then only HTTP is checked).
  HealthGate(HealthSpec spec, ContainerRuntime* containers, Milliseconds start_timeout = Milliseconds(60'000));

  // One check now.
  HealthCheckResult check(const HealthTarget& target) const;

  // Checks every `interval` until `healthy` consecutive successes (passed), `unhealthy`
  // consecutive failures after the first answer or any fatal check (failed), start_timeout
  // without a success (failed), or `stop` turning true (failed, reason "stopped").
  GateOutcome wait_until_healthy(const HealthTarget& target, const std::atomic<bool>& stop) const;

  // Checks every `interval` for `duration`: failed on `unhealthy` consecutive failures or any
  // fatal check, passed when the duration ends first. `stop` ends it early as passed=false,
  // reason "stopped".
  GateOutcome watch(const HealthTarget& target, Milliseconds duration, const std::atomic<bool>& stop) const;

 private:
  // Sleeps up to `duration`, waking early (returning false) when `stop` turns true.
  static bool pause(Milliseconds duration, const std::atomic<bool>& stop);

  HealthSpec spec_;
  ContainerRuntime* containers_;
  Milliseconds start_timeout_;
};

}  // namespace slipway
