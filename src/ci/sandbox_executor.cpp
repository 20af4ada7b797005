// The sandbox executor: the step runs under bubblewrap with the host's file system read-only,
// its workspace writable at the same path, a private /tmp, fresh /proc and /dev, and its own
// PID, IPC and UTS namespaces (and network namespace, loopback only, for network_none).
//
// Decisions:
// - No --new-session: the supervisor already starts bwrap in a new session with no controlling
//   terminal, which is what --new-session protects against (TIOCSTI injection), and keeping one
//   session lets the process-tree scan find every sandboxed process by it.
// - bwrap's two processes (the outer monitor and the namespace's init) are "wrappers": on
//   timeout or cancel, SIGTERM goes to the command and its children inside, never to bwrap,
//   whose death would SIGKILL the namespace at once (--die-with-parent) and void the grace.
// - --cap-drop ALL: bwrap started by root keeps every capability inside the sandbox, and a step
//   with CAP_SYS_ADMIN could simply remount / read-write. Without capabilities, root inside is
//   an ordinary uid 0 behind read-only mounts.
// - Leftovers are the kernel's job: when the command exits, init exits and the kernel kills
//   everything else in the PID namespace; the supervisor's scan then finds nothing to kill.
#include <fmt/core.h>

#include "ci/background_step.h"
#include "ci/executor.h"
#include "base/step_environment.h"
#include "ci/step_supervisor.h"

namespace slipway {

namespace {

constexpr int kBubblewrapWrappers = 2;  // the outer bwrap and the PID namespace's init

std::vector<std::string> bwrap_arguments(const std::filesystem::path& bwrap,
                                         const std::filesystem::path& workspace,
                                         bool network_none) {
  // clang-format off
  std::vector<std::string> argv = {
      bwrap.string(),
      "--die-with-parent",
      "--cap-drop", "ALL",
      "--unshare-pid", "--unshare-ipc", "--unshare-uts",
      "--ro-bind", "/", "/",
      "--proc", "/proc",
      "--dev", "/dev",
      "--tmpfs", "/tmp",
  };
  // clang-format on
  if (network_none) argv.push_back("--unshare-net");
  if (!workspace.empty()) {
    // After --tmpfs /tmp, so that a workspace under /tmp is mounted over the private /tmp.
    const std::string path = workspace.string();
    argv.insert(argv.end(), {"--bind", path, path, "--chdir", path});
  }
  return argv;
}

// Collects a probe's output for an error message.
class TextSink : public OutputSink {
 public:
  void on_output(OutputStream, std::string_view bytes) override {
    if (text.size() < 4096) text.append(bytes.substr(0, 4096 - text.size()));
  }
  std::string text;
};

class SandboxExecutor : public Executor {
 public:
  SandboxExecutor(std::filesystem::path bwrap, ExecutorOptions options)
      : bwrap_(std::move(bwrap)), options_(options) {}

  std::string_view name() const override { return "sandbox"; }

  Result<StepOutcome> run(const StepCommand& command, OutputSink& sink,
                          const std::atomic<bool>* cancel) override {
    Result<LaunchPlan> plan = plan_for(command);
    if (!plan) return plan.error();
    return run_step(std::move(*plan), sink, {command.timeout, cancel, options_.kill_grace});
  }

  Result<std::unique_ptr<BackgroundProcess>> start(const StepCommand& command,
                                                   OutputSink& sink) override {
    Result<LaunchPlan> plan = plan_for(command);
    if (!plan) return plan.error();
    return start_step(std::move(*plan), sink, {command.timeout, nullptr, options_.kill_grace});
  }

 private:
  Result<LaunchPlan> plan_for(const StepCommand& command) const {
    if (Status valid = check_workspace(command.workspace); !valid) return valid.error();
    // Bound at its real path: a symlinked workspace would otherwise be bound at the link.
    std::error_code error;
    std::filesystem::path workspace = std::filesystem::canonical(command.workspace, error);
    if (error) {
      return make_error(fmt::format("cannot resolve the workspace {}: {}",
                                    command.workspace.string(), error.message()));
    }
    Result<std::vector<std::string>> env = step_environment(command.env, "/tmp");
    if (!env) return env.error();
    std::vector<std::string> argv = bwrap_arguments(bwrap_, workspace, command.network_none);
    for (std::string& word : shell_command(command.script)) argv.push_back(std::move(word));
    return LaunchPlan{{std::move(argv), std::move(*env), workspace}, kBubblewrapWrappers, true};
  }

  std::filesystem::path bwrap_;
  ExecutorOptions options_;
};

// Runs bwrap once with every namespace a step may use, to fail at start-up rather than at the
// first step when this machine (a container without user namespaces, say) cannot sandbox.
Status probe_bubblewrap(const std::filesystem::path& bwrap) {
  std::vector<std::string> argv = bwrap_arguments(bwrap, {}, true);
  argv.push_back("/bin/true");
  Result<std::vector<std::string>> env = step_environment({}, "/tmp");
  if (!env) return env.error();
  TextSink output;
  Result<StepOutcome> outcome =
      run_step(LaunchPlan{{argv, std::move(*env), "/"}, kBubblewrapWrappers}, output,
               {Milliseconds(10000), nullptr, Milliseconds(1000)});
  if (!outcome) return outcome.error();
  if (outcome->succeeded()) return {};
  return make_error(fmt::format(
      "bubblewrap ({}) cannot create a sandbox on this machine ({}{}); use `--executor host`",
      bwrap.string(),
      outcome->timed_out ? "it did not finish within 10 s"
                         : fmt::format("exit status {}", outcome->exit_code),
      output.text.empty() ? ""
                          : ": " + output.text.substr(0, output.text.find_last_not_of('\n') + 1)));
}

}  // namespace

Result<std::unique_ptr<Executor>> make_sandbox_executor() {
  return make_sandbox_executor(ExecutorOptions{});
}

Result<std::unique_ptr<Executor>> make_sandbox_executor(const ExecutorOptions& options) {
  std::filesystem::path bwrap = find_program("bwrap");
  if (bwrap.empty()) {
    return make_error(
        "the sandbox executor needs bubblewrap (`bwrap`), which is not installed: install the "
        "`bubblewrap` package, or use `--executor host`");
  }
  become_subreaper();  // see make_host_executor
  if (Status usable = probe_bubblewrap(bwrap); !usable) return usable.error();
  return std::unique_ptr<Executor>(std::make_unique<SandboxExecutor>(bwrap, options));
}

}  // namespace slipway
