// execute_task_run: one queued task run from its container's creation to its removal, on the
// run's own thread — create (pulling the pinned image if need be), start, "running", output
// followed into the log file, wait (killed at the revision's timeout), the outcome recorded in
// words, the container removed. Private to the TaskRunner (cd/task_runner.h).
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cd/container_runtime.h"
#include "store/store.h"
#include "store/task_definitions.h"
#include "store/task_runs.h"

namespace slipway {

// Everything a run needs, resolved by trigger(); secrets live only here, never in the store.
struct TaskRunPlan {
  TaskRunRecord run;                              // as queued: id, container, log_path written
  TaskRevisionRecord revision;
  std::map<std::string, std::string> env;         // definition env + overrides + secrets
  std::vector<std::string> secrets;               // their values, masked in the log
  std::optional<PullCredentials> credentials;
  std::string owner;                              // slipway.owner label
};

// Runs the plan and records its final status; returns the final record. `stopping` is looked at
// between steps and while the container runs: the container is then stopped (SIGTERM, SIGKILL
// after 10 s) and the run recorded "interrupted". Never leaves the container behind, except when
// the Engine refuses its removal (then start()'s sweep removes it).
TaskRunRecord execute_task_run(Store& store, ContainerRuntime& containers, const TaskRunPlan& plan,
                               const std::atomic<bool>& stopping);

// "killed: out of memory (limit 64 MiB)", "exited with 3", "timed out after 30s": the words a
// run's reason is made of.
std::string memory_size_text(int64_t bytes);
std::string timeout_text(int64_t timeout_ms);

}  // namespace slipway
