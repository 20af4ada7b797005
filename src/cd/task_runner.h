// TaskRunner: runs data tasks on demand — a task revision's container on the Docker Engine with
// the environment's secrets, its output streamed line by line into the run's log file, its exit
// code, duration and a reason in words recorded. Nothing runs until trigger() is called (the CLI,
// the API, a schedule). Checks that can fail before anything starts (no such task or revision, a
// secret not set, an env override that is not a valid variable name) are Errors of trigger();
// what fails after (the image does not pull, the command is not found, the memory limit, the
// timeout) ends the run "failed" or "timed_out" with the Engine's words. Nothing is left running:
// stop() and a restart's start() mark unfinished runs "interrupted" and remove their containers.
// Thread-safe; each run has its own thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "cd/container_runtime.h"
#include "store/task_definitions.h"
#include "store/task_runs.h"

namespace slipway {

// The secrets a task of `repository` may see in `environment` (name → value), and the
// credentials to pull from that environment's registry. Given by the server (secret store).
struct TaskEnvironment {
  std::map<std::string, std::string> secrets;
  std::optional<PullCredentials> credentials;
};
using TaskEnvironmentResolver =
    std::function<Result<TaskEnvironment>(const std::string& repository, const std::string& environment)>;

struct TaskRunRequest {
  std::string environment;
  std::string task;
  int revision = 0;                            // 0: the active revision
  std::map<std::string, std::string> env;      // overrides on top of the definition's env
  std::string trigger = "cli";                 // "cli", "api", "schedule"
};

struct TaskRunnerOptions {
  std::filesystem::path database;
  std::filesystem::path runs_directory;        // DATA/task-runs: <id>/log (chunks, cd/task_log.h)
  ContainerRuntime* containers = nullptr;      // required
  TaskEnvironmentResolver resolve;             // required
  std::string owner;                           // slipway.owner label (the data directory), as deployments
  std::function<void(const TaskRunRecord&)> on_finished;  // optional: notices
};

class TaskRunner {
 public:
  explicit TaskRunner(TaskRunnerOptions options);
  ~TaskRunner();  // stop()s

  // Recovery: runs left queued/running are marked "interrupted" ("the server restarted") and
  // their containers removed; labelled containers of this owner with no run are removed too.
  Status start();
  // Stops every running task's container (SIGTERM, then SIGKILL after 10 s), records them
  // "interrupted" ("the server stopped"), joins the threads. Idempotent.
  void stop();

  // Validates, records the run "queued" and starts it in the background. Returns the record.
  Result<TaskRunRecord> trigger(const TaskRunRequest& request);

  // Waits until the run has finished (any final status), up to `timeout`. True when finished.
  bool wait(int64_t run_id, Milliseconds timeout);

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

// "slipway-task-orders-export-production-3f2a1c9e-17": per run, per server, legal for the Engine.
std::string task_container_name(const std::string& task, const std::string& environment, const std::string& owner,
                                int64_t run_id);

}  // namespace slipway
