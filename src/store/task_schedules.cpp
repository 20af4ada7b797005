// The task_schedules table (declared in store/task_definitions.h, beside the revisions whose
// registration moves the pins): the server config's schedules, with the revision each pins and
// when it last fired, kept across restarts.
#include <set>
#include <string>

#include <fmt/core.h>

#include "store/store_impl.h"
#include "store/task_definitions.h"

namespace slipway {

namespace {

Status validate(const std::vector<TaskScheduleRecord>& schedules) {
  std::set<std::string> names;
  for (const TaskScheduleRecord& s : schedules) {
    if (s.name.empty() || s.environment.empty() || s.task.empty() || s.cron.empty()) {
      return make_error(fmt::format("schedule '{}' (task '{}' in '{}', cron '{}') lacks a name, task, environment or "
                                    "cron expression; nothing was changed",
                                    s.name, s.task, s.environment, s.cron));
    }
    if (!names.insert(s.name).second) {
      return make_error(fmt::format("two schedules are named '{}': give each a unique name", s.name));
    }
  }
  return {};
}

// A stored pin may have moved on with new images since the config named it: it is kept while the
// config still names the same revision of the same task, and reset when the config changes it.
// (In an UPDATE, SQLite reads every column's old value, whatever the order of the assignments.)
Status upsert(Database& db, const TaskScheduleRecord& s) {
  return db.stmt("INSERT INTO task_schedules (name, environment, task, cron, revision, configured_revision, "
                 "last_fired_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
                 "ON CONFLICT (name) DO UPDATE SET "
                 "revision = CASE WHEN configured_revision = excluded.configured_revision "
                 "AND environment = excluded.environment AND task = excluded.task "
                 "THEN revision ELSE excluded.revision END, "
                 "configured_revision = excluded.configured_revision, "
                 "environment = excluded.environment, task = excluded.task, cron = excluded.cron")
      .bind(s.name, s.environment, s.task, s.cron, s.revision, s.last_fired_ms)
      .exec();
}

Result<std::vector<std::string>> stored_names(Database& db) {
  std::vector<std::string> names;
  Status read = db.stmt("SELECT name FROM task_schedules").fetch<std::string>([&](std::string name) {
    names.push_back(std::move(name));
  });
  if (!read) return read.error();
  return names;
}

Status remove_missing(Database& db, const std::vector<TaskScheduleRecord>& schedules) {
  std::set<std::string> configured;
  for (const auto& s : schedules) configured.insert(s.name);
  auto names = stored_names(db);
  if (!names) return names.error();
  for (const std::string& name : *names) {
    if (configured.count(name)) continue;
    if (Status removed = db.stmt("DELETE FROM task_schedules WHERE name = ?").bind(name).exec(); !removed) {
      return removed;
    }
  }
  return {};
}

}  // namespace

Status sync_task_schedules(Store& store, const std::vector<TaskScheduleRecord>& schedules) {
  std::string operation = fmt::format("sync {} task schedule(s)", schedules.size());
  if (Status valid = validate(schedules); !valid) return store_error(operation, valid.error().message);
  Database& db = store.database();
  Status synced = db.transaction([&]() -> Status {
    for (const TaskScheduleRecord& s : schedules) {
      if (Status written = upsert(db, s); !written) return written;
    }
    return remove_missing(db, schedules);
  });
  return store_status(operation, synced);
}

Result<std::vector<TaskScheduleRecord>> list_task_schedules(Store& store) {
  return read_rows(store.database().stmt("SELECT name, environment, task, cron, revision, last_fired_ms "
                                         "FROM task_schedules ORDER BY name"),
                   "list task schedules", [](const Row& row) {
                     return TaskScheduleRecord{row.text(0), row.text(1), row.text(2), row.text(3),
                                               static_cast<int>(row.integer(4)), row.integer(5)};
                   });
}

Status record_schedule_fired(Store& store, const std::string& name, int64_t fired_ms) {
  Database& db = store.database();
  std::string operation = fmt::format("record that schedule '{}' fired", name);
  Status updated = db.stmt("UPDATE task_schedules SET last_fired_ms = ? WHERE name = ?").bind(fired_ms, name).exec();
  if (!updated) return store_error(operation, updated.error().message);
  if (db.changes() == 0) return store_error(operation, "no such schedule (was it removed from the server config?)");
  return {};
}

}  // namespace slipway
