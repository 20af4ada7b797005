#include "store/task_definitions.h"

#include <string_view>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "store/events.h"
#include "store/json_columns.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

// Every column in the order read_revision() reads them.
constexpr std::string_view kRevisionColumns =
    "id, environment, task, repository, revision, image, digest, command, env, secrets, cpus, memory_bytes, "
    "timeout_ms, status, reason, created_ms";

Result<TaskRevisionRecord> read_revision(const Row& row) {
  TaskRevisionRecord r;
  r.id = row.integer(0);
  r.environment = row.text(1);
  r.task = row.text(2);
  r.repository = row.text(3);
  r.revision = static_cast<int>(row.integer(4));
  r.image = row.text(5);
  r.digest = row.text(6);
  auto command = strings_from_json(row.text(7), "task_revisions.command");
  if (!command) return command.error();
  r.command = std::move(*command);
  auto env = string_map_from_json(row.text(8), "task_revisions.env");
  if (!env) return env.error();
  r.env = std::move(*env);
  auto secrets = strings_from_json(row.text(9), "task_revisions.secrets");
  if (!secrets) return secrets.error();
  r.secrets = std::move(*secrets);
  r.cpus = row.real(10);
  r.memory_bytes = row.integer(11);
  r.timeout_ms = row.integer(12);
  r.status = row.text(13);
  r.reason = row.text(14);
  r.created_ms = row.integer(15);
  return r;
}

// Whole revisions, in read_revision()'s order; the caller binds the clause's parameters.
Statement select_revisions(Store& store, std::string_view where_and_order) {
  return store.database().stmt(fmt::format("SELECT {} FROM task_revisions {}", kRevisionColumns, where_and_order));
}

Status validate(const std::vector<TaskRevisionRecord>& revisions) {
  for (size_t i = 0; i < revisions.size(); ++i) {
    const TaskRevisionRecord& r = revisions[i];
    std::string_view missing = r.environment.empty() ? "environment"
                               : r.task.empty()      ? "task name"
                               : r.image.empty()     ? "image"
                                                     : "";
    if (missing.empty()) continue;
    return make_error(fmt::format("revision {} of the batch (task '{}' in environment '{}') has no {}: every task "
                                  "definition needs an environment, a name and an image; nothing was registered",
                                  i + 1, r.task, r.environment, missing));
  }
  return {};
}

// The numbers a new revision is placed after: the newest of its task, and the active one (0: none).
struct TaskNumbers {
  int newest = 0;
  int active = 0;
};

Result<TaskNumbers> read_numbers(Database& db, const TaskRevisionRecord& r) {
  TaskNumbers numbers;
  Status read = db.stmt("SELECT IFNULL(MAX(revision), 0), "
                        "IFNULL(MAX(CASE WHEN status = 'active' THEN revision END), 0) "
                        "FROM task_revisions WHERE environment = ? AND task = ?")
                    .bind(r.environment, r.task)
                    .fetch<int, int>([&](int newest, int active) { numbers = TaskNumbers{newest, active}; });
  if (!read) return read.error();
  return numbers;
}

Status insert_revision(Database& db, const TaskRevisionRecord& r, int number, int64_t created_ms) {
  return db.stmt("INSERT INTO task_revisions (environment, task, repository, revision, image, digest, command, env, "
                 "secrets, cpus, memory_bytes, timeout_ms, status, reason, created_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)")
      .bind(r.environment, r.task, r.repository, number, r.image, r.digest, strings_to_json(r.command),
            string_map_to_json(r.env), strings_to_json(r.secrets), r.cpus, r.memory_bytes, r.timeout_ms, r.reason,
            created_ms)
      .exec();
}

// The new revision becomes the only active one; those older than the newest `keep` (keep <= 0:
// no limit) are deregistered; schedules pinned to the one it replaces follow it.
struct Placed {
  int64_t id = 0;
  int number = 0;
  int deregistered = 0;
  int schedules_moved = 0;
};

Result<Placed> place_revision(Database& db, const TaskRevisionRecord& r, int keep, int64_t now) {
  auto numbers = read_numbers(db, r);
  if (!numbers) return numbers.error();
  Placed placed;
  placed.number = numbers->newest + 1;
  Status retired = db.stmt("UPDATE task_revisions SET status = 'inactive' "
                           "WHERE environment = ? AND task = ? AND status = 'active'")
                       .bind(r.environment, r.task)
                       .exec();
  if (!retired) return retired.error();
  if (Status inserted = insert_revision(db, r, placed.number, r.created_ms ? r.created_ms : now); !inserted) {
    return inserted.error();
  }
  placed.id = db.last_insert_id();
  if (keep > 0 && placed.number > keep) {
    Status dropped = db.stmt("UPDATE task_revisions SET status = 'deregistered' WHERE environment = ? AND task = ? "
                             "AND status != 'deregistered' AND revision <= ?")
                         .bind(r.environment, r.task, placed.number - keep)
                         .exec();
    if (!dropped) return dropped.error();
    placed.deregistered = static_cast<int>(db.changes());
  }
  if (numbers->active > 0) {
    Status moved = db.stmt("UPDATE task_schedules SET revision = ? WHERE environment = ? AND task = ? AND revision = ?")
                       .bind(placed.number, r.environment, r.task, numbers->active)
                       .exec();
    if (!moved) return moved.error();
    placed.schedules_moved = static_cast<int>(db.changes());
  }
  return placed;
}

// The value every revision of the batch shares, or "" when they differ.
std::string common(const std::vector<TaskRevisionRecord>& revisions, std::string TaskRevisionRecord::*field) {
  if (revisions.empty()) return "";
  for (const auto& r : revisions) {
    if (r.*field != revisions.front().*field) return "";
  }
  return revisions.front().*field;
}

EventRecord revisions_event(const std::vector<TaskRevisionRecord>& revisions, const std::vector<int>& numbers,
                            const TaskRegistration& registration, int64_t at_ms) {
  nlohmann::json tasks = nlohmann::json::array();
  for (size_t i = 0; i < revisions.size(); ++i) {
    tasks.push_back({{"environment", revisions[i].environment}, {"task", revisions[i].task},
                     {"revision", numbers[i]}, {"digest", revisions[i].digest}});
  }
  nlohmann::json payload = {{"environment", common(revisions, &TaskRevisionRecord::environment)},
                            {"image", common(revisions, &TaskRevisionRecord::image)},
                            {"tasks", tasks},
                            {"reason", common(revisions, &TaskRevisionRecord::reason)},
                            {"deregistered", registration.deregistered},
                            {"schedules_moved", registration.schedules_moved}};
  // Reasons and names come from outside: replace invalid UTF-8 rather than fail to store the event.
  return EventRecord{0, "task.revisions", common(revisions, &TaskRevisionRecord::repository), 0,
                     payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), at_ms};
}

// Keeps the first handled time: marking again (a retried decision) changes nothing.
Status mark_push_handled(Database& db, const std::string& event_id, int64_t at_ms) {
  return db.stmt("UPDATE image_pushes SET handled_ms = ? WHERE event_id = ? AND handled_ms IS NULL")
      .bind(at_ms, event_id)
      .exec();
}

}  // namespace

Result<TaskRegistration> register_task_revisions(Store& store, const std::vector<TaskRevisionRecord>& revisions,
                                                 int keep, const std::string& handled_push) {
  std::string operation = fmt::format("register {} task revision(s)", revisions.size());
  if (Status valid = validate(revisions); !valid) return store_error(operation, valid.error().message);
  Database& db = store.database();
  int64_t now = now_ms();
  TaskRegistration registration;
  Status registered = db.transaction([&]() -> Status {
    std::vector<int> numbers;
    for (const TaskRevisionRecord& r : revisions) {
      auto placed = place_revision(db, r, keep, now);
      if (!placed) {
        return make_error(fmt::format("task '{}' in '{}': {}", r.task, r.environment, placed.error().message));
      }
      registration.revision_ids.push_back(placed->id);
      registration.deregistered += placed->deregistered;
      registration.schedules_moved += placed->schedules_moved;
      numbers.push_back(placed->number);
    }
    if (!revisions.empty()) {
      auto event = append_event(store, revisions_event(revisions, numbers, registration, now));
      if (!event) return event.error();
    }
    if (handled_push.empty()) return {};
    return mark_push_handled(db, handled_push, now);  // an unknown event id marks nothing
  });
  if (!registered) return store_error(operation, registered.error().message);
  return registration;
}

Result<std::optional<TaskRevisionRecord>> active_task_revision(Store& store, const std::string& environment,
                                                               const std::string& task) {
  return read_first(select_revisions(store, "WHERE status = 'active' AND environment = ? AND task = ? LIMIT 1")
                        .bind(environment, task),
                    fmt::format("find the active revision of task '{}' in '{}'", task, environment),
                    read_revision);
}

Result<std::optional<TaskRevisionRecord>> find_task_revision(Store& store, const std::string& environment,
                                                             const std::string& task, int revision) {
  return read_first(select_revisions(store, "WHERE environment = ? AND task = ? AND revision = ? "
                                            "AND status != 'deregistered' LIMIT 1")
                        .bind(environment, task, revision),
                    fmt::format("find revision {} of task '{}' in '{}'", revision, task, environment), read_revision);
}

Result<std::optional<TaskRevisionRecord>> find_task_revision_by_id(Store& store, int64_t id) {
  return read_first(select_revisions(store, "WHERE id = ? LIMIT 1").bind(id), fmt::format("find task revision {}", id),
                    read_revision);
}

Result<std::vector<TaskRevisionRecord>> list_task_revisions(Store& store, const std::string& environment,
                                                            const std::string& task, int limit) {
  return read_rows(
      select_revisions(store, "WHERE environment = ? AND task = ? ORDER BY revision DESC LIMIT ?")
          .bind(environment, task, limit),
      fmt::format("list revisions of task '{}' in '{}'", task, environment), read_revision);
}

Result<std::vector<TaskRevisionRecord>> list_active_tasks(Store& store, const std::string& environment) {
  return read_rows(select_revisions(store, "WHERE status = 'active' AND (?1 = '' OR environment = ?1) "
                                           "ORDER BY environment, task")
                       .bind(environment),
                   "list active tasks", read_revision);
}

}  // namespace slipway
