#include "server/task_json.h"

#include <string>

namespace slipway {
namespace {

using nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

int64_t integer_of(const json& object, const char* key, int64_t fallback = 0) {
  auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

double number_of(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_number() ? found->get<double>() : 0.0;
}

std::map<std::string, std::string> strings_of(const json& object, const char* key) {
  std::map<std::string, std::string> values;
  auto found = object.find(key);
  if (found == object.end() || !found->is_object()) return values;
  for (const auto& [name, value] : found->items()) {
    if (value.is_string()) values[name] = value.get<std::string>();
  }
  return values;
}

std::vector<std::string> list_of(const json& object, const char* key) {
  std::vector<std::string> values;
  auto found = object.find(key);
  if (found == object.end() || !found->is_array()) return values;
  for (const auto& value : *found) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

}  // namespace

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
  record.id = integer_of(object, "id");
  record.environment = text_of(object, "environment");
  record.task = text_of(object, "task");
  record.repository = text_of(object, "repository");
  record.revision = static_cast<int>(integer_of(object, "revision"));
  record.image = text_of(object, "image");
  record.digest = text_of(object, "digest");
  record.command = list_of(object, "command");
  record.env = strings_of(object, "env");
  record.secrets = list_of(object, "secrets");
  record.cpus = number_of(object, "cpus");
  record.memory_bytes = integer_of(object, "memory_bytes");
  record.timeout_ms = integer_of(object, "timeout_ms");
  record.status = text_of(object, "status");
  record.reason = text_of(object, "reason");
  record.created_ms = integer_of(object, "created_ms");
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
  record.id = integer_of(object, "id");
  record.environment = text_of(object, "environment");
  record.task = text_of(object, "task");
  record.revision_id = integer_of(object, "revision_id");
  record.revision = static_cast<int>(integer_of(object, "revision"));
  record.trigger = text_of(object, "trigger");
  record.status = text_of(object, "status");
  record.exit_code = static_cast<int>(integer_of(object, "exit_code", -1));
  record.reason = text_of(object, "reason");
  record.container = text_of(object, "container");
  record.env = strings_of(object, "env");
  record.created_ms = integer_of(object, "created_ms");
  record.started_ms = integer_of(object, "started_ms");
  record.finished_ms = integer_of(object, "finished_ms");
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
  record.name = text_of(object, "name");
  record.environment = text_of(object, "environment");
  record.task = text_of(object, "task");
  record.cron = text_of(object, "cron");
  record.revision = static_cast<int>(integer_of(object, "revision"));
  record.last_fired_ms = integer_of(object, "last_fired_ms");
  return record;
}

bool task_run_unfinished(const std::string& status) { return status == "queued" || status == "running"; }

}  // namespace slipway
