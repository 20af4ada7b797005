#include "store/task_runs.h"

#include <string_view>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "store/events.h"
#include "store/json_columns.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

// Every column in the order read_run() reads them.
constexpr std::string_view kRunColumns =
    "id, environment, task, IFNULL(revision_id, 0), revision, trigger, status, exit_code, reason, container, env, "
    "log_path, created_ms, started_ms, finished_ms";

Result<TaskRunRecord> read_run(const Row& row) {
  TaskRunRecord r;
  r.id = row.integer(0);
  r.environment = row.text(1);
  r.task = row.text(2);
  r.revision_id = row.integer(3);
  r.revision = static_cast<int>(row.integer(4));
  r.trigger = row.text(5);
  r.status = task_run_status_from_text(row.text(6)).value_or(TaskRunStatus::failed);
  r.exit_code = static_cast<int>(row.integer(7));
  r.reason = row.text(8);
  r.container = row.text(9);
  auto env = string_map_from_json(row.text(10), "task_runs.env");
  if (!env) return env.error();
  r.env = std::move(*env);
  r.log_path = row.text(11);
  r.created_ms = row.integer(12);
  r.started_ms = row.integer(13);
  r.finished_ms = row.integer(14);
  return r;
}

// Whole runs, in read_run()'s order; the caller binds the clause's parameters.
Statement select_runs(Store& store, std::string_view where_and_order) {
  return store.database().stmt(fmt::format("SELECT {} FROM task_runs {}", kRunColumns, where_and_order));
}

// Task names and reasons may carry text from outside: replace invalid UTF-8 rather than fail to
// store the event.
EventRecord run_event(const TaskRunRecord& run, int64_t at_ms) {
  nlohmann::json payload = {{"task_run", run.id},       {"environment", run.environment}, {"task", run.task},
                            {"revision", run.revision}, {"trigger", run.trigger},         {"status", run.status},
                            {"exit_code", run.exit_code}, {"reason", run.reason}};
  return EventRecord{0, "task.run." + std::string(to_text(run.status)), run.task, 0,
                     payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), at_ms};
}

Status insert_run(Database& db, const TaskRunRecord& r, int64_t created_ms) {
  return db.stmt("INSERT INTO task_runs (environment, task, revision_id, revision, trigger, status, exit_code, "
                 "reason, container, env, log_path, created_ms, started_ms, finished_ms) "
                 "VALUES (?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(r.environment, r.task, r.revision_id, r.revision, r.trigger, to_text(r.status), r.exit_code, r.reason,
            r.container, string_map_to_json(r.env), r.log_path, created_ms, r.started_ms, r.finished_ms)
      .exec();
}

// Empty text and zero times keep the column; the status and exit code are always written.
Status write_update(Database& db, int64_t id, const TaskRunUpdate& u) {
  // Numbered parameters, each bound once, in order.
  return db.stmt("UPDATE task_runs SET status = ?1, exit_code = ?2, "
                 "reason = CASE WHEN ?3 = '' THEN reason ELSE ?3 END, "
                 "container = CASE WHEN ?4 = '' THEN container ELSE ?4 END, "
                 "log_path = CASE WHEN ?5 = '' THEN log_path ELSE ?5 END, "
                 "started_ms = CASE WHEN ?6 = 0 THEN started_ms ELSE ?6 END, "
                 "finished_ms = CASE WHEN ?7 = 0 THEN finished_ms ELSE ?7 END "
                 "WHERE id = ?8")
      .bind(to_text(u.status), u.exit_code, u.reason, u.container, u.log_path, u.started_ms, u.finished_ms, id)
      .exec();
}

}  // namespace

Result<int64_t> create_task_run(Store& store, const TaskRunRecord& run) {
  std::string operation = fmt::format("create a run of task '{}' in '{}'", run.task, run.environment);
  if (run.environment.empty() || run.task.empty()) {
    return store_error(operation, "a task run needs an environment and a task name");
  }
  Database& db = store.database();
  int64_t created_ms = run.created_ms ? run.created_ms : now_ms();
  TaskRunRecord created = run;
  Status inserted = db.transaction([&]() -> Status {
    if (Status written = insert_run(db, run, created_ms); !written) return written;
    created.id = db.last_insert_id();
    auto event = append_event(store, run_event(created, created_ms));
    if (!event) return event.error();
    return {};
  });
  if (!inserted) return store_error(operation, inserted.error().message);
  return created.id;
}

Status update_task_run(Store& store, int64_t id, const TaskRunUpdate& update) {
  std::string operation = fmt::format("record task run {} as '{}'", id, to_text(update.status));
  Database& db = store.database();
  Status updated = db.transaction([&]() -> Status {
    if (Status written = write_update(db, id, update); !written) return written;
    if (db.changes() == 0) return make_error(fmt::format("no task run with id {}", id));
    auto current = find_task_run(store, id);  // for the event's payload
    if (!current) return current.error();
    if (!current->has_value()) return make_error(fmt::format("no task run with id {}", id));
    auto event = append_event(store, run_event(**current, now_ms()));
    if (!event) return event.error();
    return {};
  });
  return store_status(operation, updated);
}

Result<std::optional<TaskRunRecord>> find_task_run(Store& store, int64_t id) {
  return read_first(select_runs(store, "WHERE id = ?").bind(id), fmt::format("find task run {}", id), read_run);
}

Result<std::vector<TaskRunRecord>> list_task_runs(Store& store, const std::string& environment,
                                                  const std::string& task, int limit, int64_t before_id) {
  return read_rows(select_runs(store, "WHERE (?1 = '' OR environment = ?1) AND (?2 = '' OR task = ?2) "
                                      "AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4")
                       .bind(environment, task, before_id, limit),
                   "list task runs", read_run);
}

Result<std::vector<TaskRunRecord>> unfinished_task_runs(Store& store) {
  return read_rows(select_runs(store, "WHERE status IN ('queued', 'running') ORDER BY id"),
                   "list unfinished task runs", read_run);
}

}  // namespace slipway
