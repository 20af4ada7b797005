#include "cd/health_gate.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/http_client.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Like most load balancers, a redirect counts as healthy: the application answered on purpose,
// and curl is not told to follow it, so a 3xx to a login page does not hang the check.
bool healthy_status(long status) { return status >= 200 && status < 400; }

std::string seconds_text(Milliseconds duration) { return fmt::format("{:g} s", duration.count() / 1000.0); }

std::string joined(const std::vector<std::string>& details) {
  std::string text;
  for (const std::string& detail : details) text += (text.empty() ? "" : ", ") + detail;
  return text;
}

// The short reason of a transport failure: what a person reading a chat message can act on.
std::string transport_detail(const Error& error, const std::string& url, Milliseconds timeout) {
  if (error.kind == ErrorKind::timeout) return fmt::format("timed out after {} ms", timeout.count());
  if (error.kind == ErrorKind::unavailable && !error.cause.empty()) {
    std::string cause = error.cause;
    cause[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(cause[0])));  // "connection refused"
    return cause;
  }
  size_t after_url = error.message.find(url + ": ");
  return after_url == std::string::npos ? error.message : error.message.substr(after_url + url.size() + 2);
}

// The container's own verdict: a fatal result when it is gone, stopped or unhealthy by its
// HEALTHCHECK; nullopt when the HTTP check should decide. `starting` is set for a HEALTHCHECK
// that has not decided yet.
std::optional<HealthCheckResult> container_verdict(ContainerRuntime& containers, const std::string& container,
                                                   bool& starting) {
  HealthCheckResult result;
  auto details = containers.inspect(container);
  if (!details) {
    result.detail = "cannot inspect the container: " + details.error().message;
    return result;
  }
  result.fatal = true;
  if (!details->has_value()) {
    result.detail = fmt::format("container {} is gone", container);
    return result;
  }
  const ContainerDetails& found = **details;
  if (found.ended()) {
    result.detail = fmt::format("container exited (code {}{})", found.exit_code, found.oom_killed ? ", out of memory" : "");
    return result;
  }
  if (!found.running()) {
    result.detail = fmt::format("container is {}, not running", found.state);
    return result;
  }
  if (found.health == "unhealthy") {
    result.detail = "container HEALTHCHECK unhealthy";
    return result;
  }
  starting = found.health == "starting";
  return std::nullopt;
}

// Whether a failed check counts towards `unhealthy`. An error answer always does; a check that
// got no answer (refused, timed out) only once the application has answered before, because
// until then it is still starting and start_timeout is the limit. A 2xx while the container's
// HEALTHCHECK is still "starting" is not yet a success, but not a failure either.
bool counts_as_failure(const HealthCheckResult& result, bool answered_before) {
  if (result.healthy) return false;
  if (result.answered) return !healthy_status(result.status);
  return answered_before;
}

// What both gates keep of their checks: how many (in the outcome), the last one's detail, and
// the run of consecutive failed ones with the verdict it reaches — a healthy check starts the
// count again; one that neither fails nor passes (a HEALTHCHECK still starting) leaves it.
class CheckTally {
 public:
  CheckTally(GateOutcome& outcome, int limit, std::string last_detail)
      : outcome_(outcome), limit_(limit), last_detail_(std::move(last_detail)) {}
  // Counts one check; true when it is fatal, with the outcome's reason set.
  bool fatal(const HealthCheckResult& result) {
    ++outcome_.checks;
    last_detail_ = result.detail;
    if (result.fatal) outcome_.reason = result.detail;
    return result.fatal;
  }
  const std::string& last_detail() const { return last_detail_; }
  // Records whether the check failed; true once `limit` consecutive checks failed.
  bool record(const HealthCheckResult& result, bool failed) {
    if (failed) {
      details_.push_back(result.detail);
    } else if (result.healthy) {
      details_.clear();
    }
    return static_cast<int>(details_.size()) >= limit_;
  }
  std::string reason() const {
    return fmt::format("unhealthy: {} consecutive checks failed ({})", details_.size(), joined(details_));
  }

 private:
  GateOutcome& outcome_;
  int limit_;
  std::string last_detail_;
  std::vector<std::string> details_;
};

}  // namespace

HealthGate::HealthGate(HealthSpec spec, ContainerRuntime* containers, Milliseconds start_timeout)
    : spec_(std::move(spec)), containers_(containers), start_timeout_(start_timeout) {}

HealthCheckResult HealthGate::check(const HealthTarget& target) const {
  bool starting = false;
  if (containers_ && !target.container.empty()) {
    if (auto verdict = container_verdict(*containers_, target.container, starting)) return *verdict;
  }
  HealthCheckResult result;
  HttpClientRequest get;
  get.url = fmt::format("http://127.0.0.1:{}{}", target.port, spec_.path);
  get.headers.set("Connection", "close");
  get.connect_timeout = spec_.timeout;
  get.timeout = spec_.timeout;
  // A fresh client, so a fresh connection: a kept-alive one could hide a process that no
  // longer accepts new connections.
  HttpClient client;
  auto began = SteadyClock::now();
  auto answer = client.send(get);
  double elapsed_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - began).count();
  if (!answer) {
    result.detail = transport_detail(answer.error(), get.url, spec_.timeout);
  } else {
    result.answered = true;
    result.status = static_cast<int>(answer->status);
    result.healthy = healthy_status(answer->status);
    result.detail = result.healthy ? fmt::format("{} in {:.1f} ms", result.status, elapsed_ms) : std::to_string(result.status);
  }
  if (starting) {
    result.healthy = false;
    result.detail += "; container HEALTHCHECK starting";
  }
  return result;
}

GateOutcome HealthGate::wait_until_healthy(const HealthTarget& target, const std::atomic<bool>& stop) const {
  GateOutcome outcome;
  auto deadline = SteadyClock::now() + start_timeout_;
  int successes = 0;
  bool answered_before = false;
  CheckTally checks(outcome, spec_.unhealthy, "");
  while (!stop) {
    auto began = SteadyClock::now();
    HealthCheckResult result = check(target);
    if (checks.fatal(result)) return outcome;
    bool unhealthy = checks.record(result, counts_as_failure(result, answered_before));
    answered_before = answered_before || result.answered;
    successes = result.healthy ? successes + 1 : 0;
    if (successes >= spec_.healthy) {
      outcome.passed = true;
      outcome.reason = fmt::format("healthy: {} consecutive checks passed ({})", successes, result.detail);
      return outcome;
    }
    if (unhealthy) {
      outcome.reason = checks.reason();
      return outcome;
    }
    auto now = SteadyClock::now();
    if (now >= deadline) {
      outcome.reason =
          answered_before
              ? fmt::format("not healthy within {} (last check: {})", seconds_text(start_timeout_), checks.last_detail())
              : fmt::format("never answered on 127.0.0.1:{}{} within {} (last check: {})", target.port, spec_.path,
                            seconds_text(start_timeout_), checks.last_detail());
      return outcome;
    }
    // The cadence runs from the start of each check; the last pause ends at the deadline, so
    // one final check is made there.
    auto next = std::min(began + spec_.interval, deadline);
    if (!pause(std::chrono::duration_cast<Milliseconds>(next - now), stop)) break;
  }
  outcome.reason = "stopped";
  return outcome;
}

GateOutcome HealthGate::watch(const HealthTarget& target, Milliseconds duration, const std::atomic<bool>& stop) const {
  GateOutcome outcome;
  auto began = SteadyClock::now();
  auto end = began + duration;
  auto next = began + spec_.interval;
  CheckTally checks(outcome, spec_.unhealthy, "no check");
  while (next <= end) {
    if (!pause(std::chrono::duration_cast<Milliseconds>(next - SteadyClock::now()), stop)) break;
    auto check_began = SteadyClock::now();
    HealthCheckResult result = check(target);
    if (checks.fatal(result)) return outcome;
    // During the bake the application has answered already: every failed check counts.
    if (checks.record(result, counts_as_failure(result, true))) {
      outcome.reason = checks.reason();
      return outcome;
    }
    next = check_began + spec_.interval;
  }
  if (stop) {
    outcome.reason = "stopped";
    return outcome;
  }
  if (!pause(std::chrono::duration_cast<Milliseconds>(end - SteadyClock::now()), stop)) {
    outcome.reason = "stopped";
    return outcome;
  }
  outcome.passed = true;
  outcome.reason = fmt::format("healthy for {}: {} checks (last: {})", seconds_text(duration), outcome.checks, checks.last_detail());
  return outcome;
}

bool HealthGate::pause(Milliseconds duration, const std::atomic<bool>& stop) {
  // Slices of at most 50 ms, so a stop request (a newer push, shutdown) is noticed quickly.
  auto until = SteadyClock::now() + duration;
  while (!stop) {
    auto left = until - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<SteadyClock::duration>(left, Milliseconds(50)));
  }
  return false;
}

}  // namespace slipway
