// The host executor: the step runs directly on this machine, as the server's user, in its own
// session and process group. Isolation is none beyond a clean environment; what it guarantees
// is that nothing the step started outlives it (see StepSupervisor and StepProcesses).
#include "base/step_environment.h"
#include "ci/background_step.h"
#include "ci/executor.h"
#include "ci/step_supervisor.h"

namespace slipway {

namespace {

// HOME is the job's `home/` folder beside the workspace when there is one (so that tools'
// caches and dotfiles stay inside the job), else the workspace itself: never the server's.
std::filesystem::path home_for(const std::filesystem::path& workspace) {
  std::filesystem::path home = workspace.parent_path() / "home";
  std::error_code error;
  return std::filesystem::is_directory(home, error) ? home : workspace;
}

class HostExecutor : public Executor {
 public:
  explicit HostExecutor(ExecutorOptions options) : options_(options) {}

  std::string_view name() const override { return "host"; }

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

  // The host shares everything with everything: a job has nothing of its own to open.
  Result<std::unique_ptr<JobScope>> open_job(const JobRequest& request) override {
    if (request.network_pid != 0) {
      return make_error(
          "service containers (`image:` services) need the sandbox executor: the job's steps must enter the "
          "containers' network namespace, which the host executor cannot do");
    }
    return std::make_unique<JobScope>();
  }

 private:
  static Result<LaunchPlan> plan_for(const StepCommand& command) {
    if (Status valid = check_workspace(command.workspace); !valid) return valid.error();
    Result<std::vector<std::string>> env =
        step_environment(command.env, home_for(command.workspace));
    if (!env) return env.error();
    return LaunchPlan{{shell_command(command.script), std::move(*env), command.workspace}, 0};
  }

  ExecutorOptions options_;
};

}  // namespace

std::unique_ptr<Executor> make_host_executor() { return make_host_executor(ExecutorOptions{}); }

std::unique_ptr<Executor> make_host_executor(const ExecutorOptions& options) {
  // Without it, a daemon's orphans would go to init and could not be found; doing it here keeps
  // the executor's promise even if start-up forgot. It is idempotent.
  become_subreaper();
  return std::make_unique<HostExecutor>(options);
}

}  // namespace slipway
