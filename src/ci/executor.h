// Executor: runs one step's shell command to completion, streaming its output, and guarantees
// that when run() returns nothing the step started is still running (the whole process tree is
// stopped: SIGTERM, a grace period, then SIGKILL), whether it exited, timed out or was
// cancelled. Two implementations: host (a process group per step under a subreaper, for trusted
// code only) and sandbox (every step of a job inside the job's JobSandbox: see job_sandbox.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "ci/job_limits.h"

namespace slipway {

enum class OutputStream { out, err };

// Receives raw output bytes as they arrive (not split into lines, not masked). Called from
// the thread that called run() / from the service's pump thread; never concurrently for one step.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void on_output(OutputStream stream, std::string_view bytes) = 0;
};

// What a job shares between its steps and services. Opened before the job's first step and
// closed (destroyed) after its last service stopped; every StepCommand of the job points at it.
class JobScope {
 public:
  virtual ~JobScope() = default;
  // The limit the job hit, as a phrase for a step's reason ("out of memory (job limit 4 GiB)");
  // "" when none, or when the executor enforces none.
  virtual std::string limit_reached() const { return ""; }
};

struct JobRequest {
  std::filesystem::path workspace;
  bool network_none = false;   // loopback only
  bool has_services = false;   // steps and services must share one network namespace
  JobLimits limits;
  bool docker = false;         // the Docker Engine's socket is shown (granted by the server)
  // Sandbox: join the network namespace this process is in (a service container pod's holder,
  // ci/service_containers.h) instead of making one; 0: the job makes its own.
  pid_t network_pid = 0;
};

struct StepCommand {
  std::string script;                      // run as: bash -e -o pipefail -c SCRIPT
  std::filesystem::path workspace;         // working directory, writable in the sandbox
  std::map<std::string, std::string> env;  // added to a minimal base environment
  Milliseconds timeout{0};                 // 0: no limit
  bool network_none = false;               // sandbox only: no network at all
  JobScope* job = nullptr;                 // the job it belongs to; null: a job of its own
};

struct StepOutcome {
  int exit_code = -1;        // the command's exit status; -1 when it was killed
  int signal = 0;            // the signal that ended it, 0 if it exited
  bool timed_out = false;
  bool cancelled = false;
  Milliseconds duration{0};
  // Whether /proc was walked for leftovers: after a timeout or a cancel, or when a step that
  // ended by itself could not be proven to have left nothing (a background child, a daemon).
  bool hunted = false;
  bool succeeded() const { return exit_code == 0 && !timed_out && !cancelled; }
};

// A long-running process (a test service). Destroying it stops its whole tree.
class BackgroundProcess {
 public:
  virtual ~BackgroundProcess() = default;
  virtual bool running() = 0;
  // SIGTERM to the tree, up to `grace`, then SIGKILL; waits until every process is gone.
  virtual void stop(Milliseconds grace = Milliseconds(5000)) = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string_view name() const = 0;  // "host" or "sandbox"

  // Fails (as an Error) only when the step could not be started at all; a command that exits
  // non-zero is a successful run() with a non-zero exit_code.
  virtual Result<StepOutcome> run(const StepCommand& command, OutputSink& sink,
                                  const std::atomic<bool>* cancel = nullptr) = 0;

  // Starts a command in the background; its output goes to `sink` from a pump thread until it
  // stops. The sink must outlive the returned process.
  virtual Result<std::unique_ptr<BackgroundProcess>> start(const StepCommand& command,
                                                           OutputSink& sink) = 0;

  // Opens what the steps and services of one job share (the sandbox's namespaces, private
  // /tmp, limits). Fails, with a message naming what is missing, when it cannot be made.
  virtual Result<std::unique_ptr<JobScope>> open_job(const JobRequest& request) = 0;

  // Makes now what open_job() of a job like `request` would otherwise make first and which takes
  // long — the sandbox's network namespace, into its pool — so that the caller can have it made
  // while another thread does something else (the checkout). Blocks until done. A failure is
  // not reported here: open_job() tries again and says why. The host executor has nothing to
  // make.
  virtual void prepare_job(const JobRequest& /*request*/) {}
};

// Tunables of both executors, with their defaults. Tests shorten the grace.
struct ExecutorOptions {
  // Between SIGTERM and SIGKILL when a step times out or is cancelled.
  Milliseconds kill_grace{5000};
  // Sandbox, as root: the unprivileged uid the job's processes run as. The server gives each
  // worker its own, so that two jobs running at once never share a uid.
  uint32_t job_uid = kFirstJobUid;
  // Sandbox: paths never shown to a step even inside a tree it sees (the data directory, the
  // server's configuration file).
  std::vector<std::filesystem::path> hidden_paths;
  // Sandbox: a file remembering that the probe passed, with what it depends on (the slipway
  // binary that builds the sandbox, the kernel, the user-namespace settings, the uid); while those stay the same the
  // probe (a whole sandboxed step, ~28 ms) is not run again. Empty: probe every time.
  std::filesystem::path probe_record;

  static constexpr uint32_t kFirstJobUid = 2'000'000;
};

std::unique_ptr<Executor> make_host_executor();
std::unique_ptr<Executor> make_host_executor(const ExecutorOptions& options);

// Fails when this machine cannot create the sandbox's namespaces (a container without user
// namespaces, a kernel before 5.12), with a message saying so and suggesting `--executor host`.
Result<std::unique_ptr<Executor>> make_sandbox_executor();
Result<std::unique_ptr<Executor>> make_sandbox_executor(const ExecutorOptions& options);

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER) so that daemons forked by steps
// are re-parented here and can be found and stopped. Call once at start-up.
void become_subreaper();

}  // namespace slipway
