// Task definitions of data tasks, per environment: each change (a new image digest, a changed
// command, env, secrets or limits) is a new immutable revision, numbered 1, 2, 3… per task and
// environment. A whole batch of revisions (every task an image push touches) is registered in one
// transaction with its event, so a revision is never half-registered, and the schedules that pin
// a task's previous revision move to the new one in the same transaction.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct TaskRevisionRecord {
  int64_t id = 0;
  std::string environment;
  std::string task;                       // the task's name (unique per environment)
  std::string repository;                 // the data-task repository that defines it
  int revision = 0;                       // 1, 2, 3… per (environment, task); set by registration
  std::string image;                      // "127.0.0.1:5000/prod/orders-etl" (no tag, no digest)
  std::string digest;                     // "sha256:…" it is pinned to; "" = no image pushed yet
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::vector<std::string> secrets;       // names, resolved at run time
  double cpus = 0;                        // 0: no limit
  int64_t memory_bytes = 0;               // 0: no limit
  int64_t timeout_ms = 0;                 // 0: none
  std::string status = "active";          // active | inactive (a newer one exists) | deregistered
  std::string reason;                     // why it was made: "image sha256:… pushed as 3f2a…"
  int64_t created_ms = 0;

  // "127.0.0.1:5000/prod/orders-etl@sha256:…", what a run's container uses.
  std::string pinned_image() const { return digest.empty() ? image : image + "@" + digest; }
};

struct TaskScheduleRecord {
  std::string name;                       // unique: the schedule's name in the server config
  std::string environment;
  std::string task;
  std::string cron;                       // five fields, as written
  int revision = 0;                       // pinned revision; 0 = always the latest active
  int64_t last_fired_ms = 0;
};

struct TaskRegistration {
  std::vector<int64_t> revision_ids;      // in the order given
  int deregistered = 0;                   // revisions beyond `keep` marked deregistered
  int schedules_moved = 0;
};

// Registers each revision as the next number of its (environment, task): inserted "active", the
// previous active one becomes "inactive", those beyond the newest `keep` become "deregistered";
// schedules pinned to the previous revision move to the new one; one "task.revisions" event
// (payload: environment, tasks with their new numbers, reason) for the batch; and, when
// `handled_push` is not empty, that image push is marked handled — all in one transaction.
// Error (nothing written) when any record lacks environment, task or image.
Result<TaskRegistration> register_task_revisions(Store& store, const std::vector<TaskRevisionRecord>& revisions,
                                                 int keep, const std::string& handled_push = "");

// The active revision of a task, or a given number (any status but deregistered); nullopt when
// there is none.
Result<std::optional<TaskRevisionRecord>> active_task_revision(Store& store, const std::string& environment,
                                                               const std::string& task);
Result<std::optional<TaskRevisionRecord>> find_task_revision(Store& store, const std::string& environment,
                                                             const std::string& task, int revision);
Result<std::optional<TaskRevisionRecord>> find_task_revision_by_id(Store& store, int64_t id);

// Newest first, deregistered ones included (they say what ran before).
Result<std::vector<TaskRevisionRecord>> list_task_revisions(Store& store, const std::string& environment,
                                                            const std::string& task, int limit);

// The active revision of every task ("" environment: every environment), by environment, task.
Result<std::vector<TaskRevisionRecord>> list_active_tasks(Store& store, const std::string& environment);

// Makes the stored schedules exactly `schedules` (from the server config): new names added,
// changed cron/task/environment updated, missing ones removed. A schedule whose configured
// revision is 0 keeps following the latest; a stored pin survives a restart unless the config
// names another revision.
Status sync_task_schedules(Store& store, const std::vector<TaskScheduleRecord>& schedules);
Result<std::vector<TaskScheduleRecord>> list_task_schedules(Store& store);
Status record_schedule_fired(Store& store, const std::string& name, int64_t fired_ms);

}  // namespace slipway
