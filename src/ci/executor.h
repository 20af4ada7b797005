// Executor: runs one step's shell command to completion, streaming its output, and guarantees
// that when run() returns nothing the step started is still running (the whole process tree is
// stopped: SIGTERM, a grace period, then SIGKILL), whether it exited, timed out or was
// cancelled. Two implementations: host (a process group per step under a subreaper) and
// sandbox (bubblewrap: read-only host, writable workspace, private /tmp, own PID namespace).
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/time.h"

namespace slipway {

enum class OutputStream { out, err };

// Receives raw output bytes as they arrive (not split into lines, not masked). Called from
// the thread that called run() / from the service's pump thread; never concurrently for one step.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void on_output(OutputStream stream, std::string_view bytes) = 0;
};

struct StepCommand {
  std::string script;                      // run as: bash -e -o pipefail -c SCRIPT
  std::filesystem::path workspace;         // working directory, writable in the sandbox
  std::map<std::string, std::string> env;  // added to a minimal base environment
  Milliseconds timeout{0};                 // 0: no limit
  bool network_none = false;               // sandbox only: no network at all
};

struct StepOutcome {
  int exit_code = -1;        // the command's exit status; -1 when it was killed
  int signal = 0;            // the signal that ended it, 0 if it exited
  bool timed_out = false;
  bool cancelled = false;
  Milliseconds duration{0};
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
};

// Tunables of both executors, with their defaults. Tests shorten the grace.
struct ExecutorOptions {
  // Between SIGTERM and SIGKILL when a step times out or is cancelled.
  Milliseconds kill_grace{5000};
};

std::unique_ptr<Executor> make_host_executor();
std::unique_ptr<Executor> make_host_executor(const ExecutorOptions& options);

// Fails when bubblewrap is not installed or cannot create namespaces here, with a message
// saying so and suggesting `--executor host`.
Result<std::unique_ptr<Executor>> make_sandbox_executor();
Result<std::unique_ptr<Executor>> make_sandbox_executor(const ExecutorOptions& options);

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER) so that daemons forked by steps
// are re-parented here and can be found and stopped. Call once at start-up.
void become_subreaper();

}  // namespace slipway
