// The sandbox executor: every step and service of a job runs inside the job's JobSandbox
// (job_sandbox.h: own namespaces, unprivileged uid, minimal file system, limits).
//
// Decisions:
// - The spawned process enters the job's cgroups, network namespace and uid itself, and builds
//   the step's namespaces and file system view itself (base/sandbox_entry.h): no helper program
//   starts first. Until 2026-12-07 each step ran under bubblewrap, whose program and two
//   processes cost ~10 ms a step on this machine.
// - The spawned process is the step's PID namespace's init, a "wrapper": on timeout or cancel,
//   SIGTERM goes to the command and its children inside, never to the init, whose death would
//   SIGKILL the namespace at once and void the grace.
// - Leftovers are the kernel's job: when the command exits, the init exits, and the kernel has
//   killed everything else in the PID namespace before the init's exit is reported.
// - A step run without a job (a probe, a one-off) gets a job of its own for its duration.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <fstream>

#include <fmt/core.h>

#include "base/files.h"
#include "base/step_environment.h"
#include "ci/background_step.h"
#include "ci/executor.h"
#include "ci/job_sandbox.h"
#include "ci/step_supervisor.h"

namespace slipway {

namespace {

constexpr int kSandboxWrappers = 1;  // the PID namespace's init

class SandboxJob : public JobScope {
 public:
  explicit SandboxJob(std::unique_ptr<JobSandbox> sandbox) : sandbox_(std::move(sandbox)) {}
  std::string limit_reached() const override { return sandbox_->limit_reached(); }
  const JobSandbox& sandbox() const { return *sandbox_; }

 private:
  std::unique_ptr<JobSandbox> sandbox_;
};

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
  explicit SandboxExecutor(ExecutorOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return "sandbox"; }

  Result<StepOutcome> run(const StepCommand& command, OutputSink& sink,
                          const std::atomic<bool>* cancel) override {
    std::unique_ptr<JobScope> own_job;
    const StepCommand* effective = &command;
    StepCommand with_job;
    if (!command.job) {
      auto opened = open_job({command.workspace, command.network_none, false, default_job_limits()});
      if (!opened) return opened.error();
      own_job = std::move(*opened);
      with_job = command;
      with_job.job = own_job.get();
      effective = &with_job;
    }
    Result<LaunchPlan> plan = plan_for(*effective);
    if (!plan) return plan.error();
    return run_step(std::move(*plan), sink, {command.timeout, cancel, options_.kill_grace});
  }

  Result<std::unique_ptr<BackgroundProcess>> start(const StepCommand& command,
                                                   OutputSink& sink) override {
    if (!command.job) return make_error("a service runs inside its job's sandbox: open_job() first");
    Result<LaunchPlan> plan = plan_for(command);
    if (!plan) return plan.error();
    return start_step(std::move(*plan), sink, {command.timeout, nullptr, options_.kill_grace});
  }

  Result<std::unique_ptr<JobScope>> open_job(const JobRequest& request) override {
    if (Status valid = check_workspace(request.workspace); !valid) return valid.error();
    std::error_code error;
    std::filesystem::path workspace = std::filesystem::canonical(request.workspace, error);
    if (error) {
      return make_error(fmt::format("cannot resolve the workspace {}: {}", request.workspace.string(), error.message()));
    }
    auto opened = JobSandbox::open(sandbox_request(request, workspace));
    if (!opened) return make_error(fmt::format("cannot open the job's sandbox: {}", opened.error().message));
    return std::unique_ptr<JobScope>(std::make_unique<SandboxJob>(std::move(*opened)));
  }

  void prepare_job(const JobRequest& request) override { JobSandbox::prepare_network(sandbox_request(request, {})); }

 private:
  Result<LaunchPlan> plan_for(const StepCommand& command) const {
    if (Status valid = check_workspace(command.workspace); !valid) return valid.error();
    auto* job = dynamic_cast<SandboxJob*>(command.job);
    if (!job) return make_error("the sandbox executor was given a job it did not open");
    Result<std::vector<std::string>> env = step_environment(command.env, JobSandbox::home());
    if (!env) return env.error();
    SandboxLaunch launch = job->sandbox().launch(shell_command(command.script));
    SpawnRequest spawn{std::move(launch.argv), std::move(*env), "/"};
    spawn.enter = std::move(launch.enter);
    return LaunchPlan{std::move(spawn), kSandboxWrappers, true};
  }

  JobSandboxRequest sandbox_request(const JobRequest& request, const std::filesystem::path& workspace) const {
    JobSandboxRequest sandbox;
    sandbox.workspace = workspace;
    sandbox.network_none = request.network_none;
    sandbox.shared_network = request.has_services;
    sandbox.limits = request.limits;
    sandbox.docker = request.docker;
    sandbox.network_pid = request.network_pid;
    sandbox.uid = options_.job_uid;
    sandbox.hidden_paths = options_.hidden_paths;
    return sandbox;
  }

  ExecutorOptions options_;
};

// Runs one step in a job sandbox of its own, to fail at start-up rather than at the first step
// when this machine (a container without user namespaces, say) cannot sandbox.
Status probe_sandbox(Executor& executor) {
  std::filesystem::path probe_dir = std::filesystem::temp_directory_path() / fmt::format("slipway-probe-{}", ::getpid());
  std::error_code error;
  std::filesystem::create_directories(probe_dir, error);
  StepCommand command;
  command.script = "true";
  command.workspace = probe_dir;
  command.network_none = true;
  command.timeout = Milliseconds(10000);
  TextSink output;
  Result<StepOutcome> outcome = executor.run(command, output);
  std::filesystem::remove_all(probe_dir, error);
  if (!outcome) return outcome.error();
  if (outcome->succeeded()) return {};
  return make_error(fmt::format(
      "cannot create a sandbox on this machine ({}{}); use `--executor host`",
      outcome->timed_out ? "it did not finish within 10 s" : fmt::format("exit status {}", outcome->exit_code),
      output.text.empty() ? "" : ": " + output.text.substr(0, output.text.find_last_not_of('\n') + 1)));
}

// What a passed probe depends on, one line: the identity of the program that builds the sandbox
// (this one: device, inode, size, mtime), the kernel's release, the user-namespace switches and
// the effective uid.
std::string probe_conditions() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  struct stat status {};
  ::stat("/proc/self/exe", &status);
  struct utsname kernel {};
  ::uname(&kernel);
  auto first_line = [](const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line.empty() ? std::string("-") : line;
  };
  return fmt::format("sandbox {} {}:{} {} {} kernel {} userns {} {} uid {}\n", self.string(), status.st_dev, status.st_ino,
                     status.st_size, status.st_mtim.tv_sec, kernel.release, first_line("/proc/sys/user/max_user_namespaces"),
                     first_line("/proc/sys/kernel/unprivileged_userns_clone"), ::geteuid());
}

}  // namespace

Result<std::unique_ptr<Executor>> make_sandbox_executor() {
  return make_sandbox_executor(ExecutorOptions{});
}

Result<std::unique_ptr<Executor>> make_sandbox_executor(const ExecutorOptions& options) {
  become_subreaper();  // see make_host_executor
  clean_stale_job_sandboxes();
  auto executor = std::make_unique<SandboxExecutor>(options);
  const std::string conditions = probe_conditions();
  auto recorded = options.probe_record.empty() ? Result<std::string>(make_error("none")) : read_file(options.probe_record);
  if (!recorded || *recorded != conditions) {
    if (Status usable = probe_sandbox(*executor); !usable) return usable.error();
    // Only a passed probe is remembered; failing to remember it costs the next run a probe.
    if (!options.probe_record.empty()) (void)write_file_atomically(options.probe_record, conditions);
  }
  return std::unique_ptr<Executor>(std::move(executor));
}

}  // namespace slipway
