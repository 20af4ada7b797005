#include "ci/step_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include "ci/leftover_processes.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// How often the loop wakes to look at the cancel flag when nothing else happens.
constexpr int kTickMs = 50;
// One read from a pipe; output passes through in pieces of at most this size, never as lines.
constexpr size_t kReadBytes = 256 * 1024;

// One read of up to kReadBytes from `fd` to the sink, through `buffer` (kReadBytes long).
// Returns the bytes read, 0 when there was nothing to read, -1 when the pipe is closed (at EOF or
// on error; `fd` is then closed).
long pump_once(UniqueFd& fd, OutputStream stream, OutputSink& sink, char* buffer) {
  ssize_t n = ::read(fd.get(), buffer, kReadBytes);
  if (n > 0) {
    sink.on_output(stream, std::string_view(buffer, static_cast<size_t>(n)));
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  fd.reset();
  return -1;
}

int milliseconds_until(SteadyClock::time_point when) {
  auto left = std::chrono::duration_cast<Milliseconds>(when - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, kTickMs));
}

}  // namespace

Result<std::unique_ptr<StepSupervisor>> StepSupervisor::launch(LaunchPlan plan) {
  // Scoped to the server's data directory, so that its restart finds this step's leftovers.
  std::string marker = make_scoped_step_marker();
  plan.spawn.env.push_back(marker);
  Result<ChildProcess> child = ChildProcess::spawn(plan.spawn);
  if (!child) return child.error();
  pid_t leader = child->pid();
  StepProcesses tree(leader, std::move(marker), plan.wrapper_depth);
  return std::unique_ptr<StepSupervisor>(new StepSupervisor(std::move(*child), std::move(tree),
                                                            plan.own_pid_namespace, ::gettid()));
}

StepSupervisor::StepSupervisor(ChildProcess child, StepProcesses tree, bool own_pid_namespace,
                               pid_t spawner_tid)
    : child_(std::move(child)),
      tree_(std::move(tree)),
      own_pid_namespace_(own_pid_namespace),
      spawner_tid_(spawner_tid),
      read_buffer_(std::make_unique_for_overwrite<char[]>(kReadBytes)) {}

StepOutcome StepSupervisor::supervise(OutputSink& sink, const StopRules& rules) {
  const auto started = SteadyClock::now();
  const auto deadline =
      rules.timeout > Milliseconds(0) ? started + rules.timeout : SteadyClock::time_point::max();
  StepOutcome outcome;
  bool exited = false;
  std::optional<SteadyClock::time_point> kill_at;  // set once SIGTERM has gone out
  while (true) {
    int wait_ms = milliseconds_until(kill_at ? *kill_at : deadline);
    if (wait_and_pump(sink, wait_ms, !exited)) exited = child_.peek_exit().has_value();
    const auto now = SteadyClock::now();
    if (!kill_at) {
      if (exited) break;
      outcome.timed_out = now >= deadline;
      outcome.cancelled = !outcome.timed_out && stop_wanted(rules);
      if (outcome.timed_out || outcome.cancelled) {
        tree_.terminate();
        long long grace = stop_requested_ ? stop_grace_ms_.load() : rules.grace.count();
        kill_at = now + Milliseconds(grace);
      }
    } else if (now >= *kill_at || tree_.alive().empty()) {
      break;
    }
  }
  // A step that ended by itself usually left nothing: prove it cheaply when possible; after a
  // timeout or a cancel, or when the proof fails, hunt the leftovers down.
  bool ended_by_itself = exited && !kill_at;
  outcome.hunted = !ended_by_itself || !nothing_left_after_exit();
  if (outcome.hunted) tree_.kill_all();
  drain(sink);
  ExitStatus status = child_.reap();
  finished_ = true;
  outcome.exit_code = status.exit_code;
  outcome.signal = status.signal;
  outcome.duration = std::chrono::duration_cast<Milliseconds>(SteadyClock::now() - started);
  return outcome;
}

// Waits up to `timeout_ms` for output or (when `watch_exit`) the main process's exit, passes
// one read of each ready pipe to the sink, and says whether the exit was signalled.
bool StepSupervisor::wait_and_pump(OutputSink& sink, int timeout_ms, bool watch_exit) {
  pollfd fds[3] = {{child_.stdout_fd().get(), POLLIN, 0},
                   {child_.stderr_fd().get(), POLLIN, 0},
                   {watch_exit ? child_.exit_fd() : -1, POLLIN, 0}};
  int ready = ::poll(fds, 3, timeout_ms);
  if (ready <= 0) return false;  // timeout, or EINTR: the caller's loop comes back
  if (fds[0].revents != 0) pump_once(child_.stdout_fd(), OutputStream::out, sink, read_buffer_.get());
  if (fds[1].revents != 0) pump_once(child_.stderr_fd(), OutputStream::err, sink, read_buffer_.get());
  return fds[2].revents != 0;
}

// Reads what the step's processes, all dead now, left in the pipes, then closes them. Bounded
// by each pipe's capacity: a process that escaped detection and still writes cannot hold us.
void StepSupervisor::drain(OutputSink& sink) {
  struct Stream {
    UniqueFd& fd;
    OutputStream stream;
  };
  for (Stream s : {Stream{child_.stdout_fd(), OutputStream::out},
                   Stream{child_.stderr_fd(), OutputStream::err}}) {
    if (!s.fd.valid()) continue;
    long left = std::max(::fcntl(s.fd.get(), F_GETPIPE_SZ), 65536);
    while (left > 0) {
      long n = pump_once(s.fd, s.stream, sink, read_buffer_.get());
      if (n <= 0) break;
      left -= n;
    }
    s.fd.reset();
  }
}

// The sandbox relies on its PID namespace (see LaunchPlan::own_pid_namespace): our child is the
// namespace's init, and the kernel has killed everything else in the namespace before the
// init's exit is reported. The host relies on the process-tree proof.
bool StepSupervisor::nothing_left_after_exit() {
  return own_pid_namespace_ || tree_.provably_gone(spawner_tid_);
}

bool StepSupervisor::stop_wanted(const StopRules& rules) const {
  return stop_requested_.load() || (rules.cancel != nullptr && rules.cancel->load());
}

void StepSupervisor::request_stop(Milliseconds grace) {
  stop_grace_ms_ = grace.count();
  stop_requested_ = true;
}

bool StepSupervisor::main_running() const { return !finished_ && !child_.has_exited(); }

Result<StepOutcome> run_step(LaunchPlan plan, OutputSink& sink, const StopRules& rules) {
  Result<std::unique_ptr<StepSupervisor>> supervisor = StepSupervisor::launch(std::move(plan));
  if (!supervisor) return supervisor.error();
  return (*supervisor)->supervise(sink, rules);
}

}  // namespace slipway
