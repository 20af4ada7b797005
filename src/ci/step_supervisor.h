// StepSupervisor: takes one launched step from its first byte of output to the moment nothing
// it started is running. It reads stdout and stderr with poll(2) in the calling thread, learns
// of the main process's exit from a pidfd in the same poll, and enforces the timeout and
// cancellation (SIGTERM to the step's processes, a grace, then SIGKILL).
//
// Why a pidfd and not waitpid(WNOHANG) on a poll timeout: the exit wakes the loop at once, so a
// short step costs no polling latency, and the child stays unreaped until the end (its pid, and
// so its session id, cannot be reused while leftovers are found and killed). The loop still
// wakes every 50 ms, because a cancel flag is a plain atomic that cannot be polled.
//
// When the main process exits, leftovers (background jobs, daemons) get SIGKILL at once, without
// a grace: the step is over, and a daemon that keeps the output pipe open must not keep the step
// waiting for an EOF that would never come. Output still in the pipes is then read (bounded by
// the pipe's capacity, all a dead writer can have left) and the pipes are closed.
#pragma once

#include <atomic>
#include <memory>

#include "base/child_process.h"
#include "base/result.h"
#include "base/time.h"
#include "ci/executor.h"
#include "ci/process_tree.h"

namespace slipway {

// What an executor decides: the program to start and how many wrapper processes stand between
// us and the step's own command (see StepProcesses).
struct LaunchPlan {
  SpawnRequest spawn;
  int wrapper_depth = 0;
  // Our child is the init of the step's own PID namespace (the sandbox) and the step its child:
  // when it exits by itself, the kernel has killed everything else in the namespace before the
  // init's exit is reported, so there is no leftover hunt at all. Timeouts and cancels still
  // stop the tree explicitly. Without one (the host), a step that ended by itself skips the
  // hunt only when StepProcesses::provably_gone() shows nothing of it can be left.
  bool own_pid_namespace = false;
};

struct StopRules {
  Milliseconds timeout{0};                    // 0: no limit
  const std::atomic<bool>* cancel = nullptr;  // stop when it becomes true
  Milliseconds grace{5000};                   // between SIGTERM and SIGKILL
};

class StepSupervisor {
 public:
  // Starts the program; fails only when it cannot be started. A step marker is added to its
  // environment so that its orphans can be recognised.
  static Result<std::unique_ptr<StepSupervisor>> launch(LaunchPlan plan);

  // Runs the loop described above until the step is over; returns how it ended. Call once.
  StepOutcome supervise(OutputSink& sink, const StopRules& rules);

  // Thread-safe: stop as if cancelled, with this grace (used by background services).
  void request_stop(Milliseconds grace);
  // Thread-safe: true until the main process has exited.
  bool main_running() const;

 private:
  StepSupervisor(ChildProcess child, StepProcesses tree, bool own_pid_namespace, pid_t spawner_tid);

  bool stop_wanted(const StopRules& rules) const;
  bool nothing_left_after_exit();
  bool wait_and_pump(OutputSink& sink, int timeout_ms, bool watch_exit);
  void drain(OutputSink& sink);

  ChildProcess child_;
  StepProcesses tree_;
  bool own_pid_namespace_;
  pid_t spawner_tid_;  // the thread that spawned the leader: its parent, for provably_gone()
  // Where the pipes are read into: the step's own, so that it costs memory only while a step runs
  // (a thread_local buffer is zeroed into every thread of the server at its start).
  std::unique_ptr<char[]> read_buffer_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<long long> stop_grace_ms_{0};
  std::atomic<bool> finished_{false};
};

// launch() then supervise(): the whole of Executor::run() once the plan is made.
Result<StepOutcome> run_step(LaunchPlan plan, OutputSink& sink, const StopRules& rules);

}  // namespace slipway
