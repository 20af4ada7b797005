#include "server/task_json.h"

#include <string>

#include "base/json_fields.h"

namespace slipway {

using nlohmann::json;

json task_revision_json(const TaskRevisionRecord& revision) {
  return {{"id", revision.id},
          {"environment", revision.environment},
          {"task", revision.task},
          {"repository", revision.repository},
          {"revision", revision.revision},
          {"image", revision.image},
          {"digest", revision.digest},
          {"pinned_image", revision.pinned_image()},
          {"command", revision.command},
          {"env", revision.env},
          {"secrets", revision.secrets},
          {"cpus", revision.cpus},
          {"memory_bytes", revision.memory_bytes},
          {"timeout_ms", revision.timeout_ms},
          {"status", revision.status},
          {"reason", revision.reason},
          {"created_ms", revision.created_ms}};
}

TaskRevisionRecord task_revision_from_json(const json& object) {
  TaskRevisionRecord record;
  if (!object.is_object()) return record;
  record.id = json_integer(object, "id");
  record.environment = json_text(object, "environment");
  record.task = json_text(object, "task");
  record.repository = json_text(object, "repository");
  record.revision = static_cast<int>(json_integer(object, "revision"));
  record.image = json_text(object, "image");
  record.digest = json_text(object, "digest");
  record.command = json_strings(object, "command");
  record.env = json_string_map(object, "env");
  record.secrets = json_strings(object, "secrets");
  record.cpus = json_number(object, "cpus");
  record.memory_bytes = json_integer(object, "memory_bytes");
  record.timeout_ms = json_integer(object, "timeout_ms");
  record.status = json_text(object, "status");
  record.reason = json_text(object, "reason");
  record.created_ms = json_integer(object, "created_ms");
  return record;
}

json task_run_json(const TaskRunRecord& run) {
  return {{"id", run.id},
          {"environment", run.environment},
          {"task", run.task},
          {"revision_id", run.revision_id},
          {"revision", run.revision},
          {"trigger", run.trigger},
          {"status", run.status},
          {"exit_code", run.exit_code},
          {"reason", run.reason},
          {"container", run.container},
          {"env", run.env},
          {"created_ms", run.created_ms},
          {"started_ms", run.started_ms},
          {"finished_ms", run.finished_ms}};
}

TaskRunRecord task_run_from_json(const json& object) {
  TaskRunRecord record;
  if (!object.is_object()) return record;
  record.id = json_integer(object, "id");
  record.environment = json_text(object, "environment");
  record.task = json_text(object, "task");
  record.revision_id = json_integer(object, "revision_id");
  record.revision = static_cast<int>(json_integer(object, "revision"));
  record.trigger = json_text(object, "trigger");
  // As the store reads one: a status a newer server sends that this version does not know is failed.
  record.status = task_run_status_from_text(json_text(object, "status")).value_or(TaskRunStatus::failed);
  record.exit_code = static_cast<int>(json_integer(object, "exit_code", -1));
  record.reason = json_text(object, "reason");
  record.container = json_text(object, "container");
  record.env = json_string_map(object, "env");
  record.created_ms = json_integer(object, "created_ms");
  record.started_ms = json_integer(object, "started_ms");
  record.finished_ms = json_integer(object, "finished_ms");
  return record;
}

json task_schedule_json(const TaskScheduleRecord& schedule) {
  return {{"name", schedule.name},         {"environment", schedule.environment},
          {"task", schedule.task},         {"cron", schedule.cron},
          {"revision", schedule.revision}, {"last_fired_ms", schedule.last_fired_ms}};
}

TaskScheduleRecord task_schedule_from_json(const json& object) {
  TaskScheduleRecord record;
  if (!object.is_object()) return record;
  record.name = json_text(object, "name");
  record.environment = json_text(object, "environment");
  record.task = json_text(object, "task");
  record.cron = json_text(object, "cron");
  record.revision = static_cast<int>(json_integer(object, "revision"));
  record.last_fired_ms = json_integer(object, "last_fired_ms");
  return record;
}

}  // namespace slipway
