// The task_runs table: each execution of a task revision — who asked (cli, api, schedule), what
// it ran, how it ended (exit code, duration, a reason in words). A run is written "queued" before
// its container exists and its container's name is written before it is created, so a restart
// can find and stop what a killed server left running.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"
#include "store/task_run_status.h"

namespace slipway {

struct TaskRunRecord {
  int64_t id = 0;
  std::string environment;
  std::string task;
  int64_t revision_id = 0;
  int revision = 0;
  std::string trigger;                       // "cli", "api", "schedule"
  TaskRunStatus status = TaskRunStatus::queued;  // a stored one this version does not know reads as failed
  int exit_code = -1;                        // -1 until it exits (or when killed)
  std::string reason;                        // "exited with 3", "timed out after 30s", "killed: out of memory (limit 64 MiB)"
  std::string container;                     // its name on the Docker Engine
  std::map<std::string, std::string> env;    // the trigger's overrides (--env K=V); never secrets
  std::string log_path;                      // the run's log folder (output.log before chunks)
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
};

// Inserts the run and a "task.run.queued" event. Returns the id.
Result<int64_t> create_task_run(Store& store, const TaskRunRecord& run);

struct TaskRunUpdate {
  TaskRunStatus status = TaskRunStatus::failed;  // always written
  int exit_code = -1;
  std::string reason;
  std::string container;                     // "" leaves it
  std::string log_path;                      // "" leaves it
  int64_t started_ms = 0;                    // 0 leaves it
  int64_t finished_ms = 0;                   // 0 leaves it
};

// Updates the run and appends "task.run.<status>". Error when there is no such run.
Status update_task_run(Store& store, int64_t id, const TaskRunUpdate& update);

Result<std::optional<TaskRunRecord>> find_task_run(Store& store, int64_t id);
// Newest first; "" matches any environment/task; before_id 0 = from the newest.
Result<std::vector<TaskRunRecord>> list_task_runs(Store& store, const std::string& environment,
                                                  const std::string& task, int limit, int64_t before_id = 0);
// Runs still "queued" or "running" (after a crash: the ones to mark interrupted).
Result<std::vector<TaskRunRecord>> unfinished_task_runs(Store& store);

}  // namespace slipway
