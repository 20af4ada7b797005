// The `tasks:` section of a data task: one task definition per name.
#include <fmt/core.h>

#include "spec/spec_sections.h"

namespace slipway {
namespace {

std::vector<std::string> read_command(SpecReader& reader, const Field& field) {
  if (field.value.IsScalar()) {
    // A shell string would leave word splitting to guesswork; the container gets an argv.
    reader.report(field.value, fmt::format("'{}' must be a list of arguments, e.g. [python, -m, job], found {}",
                                           field.path, describe_value(field.value)));
    return {};
  }
  auto command = reader.string_list(field);
  if (command && command->empty()) {
    reader.report(field.value, fmt::format("'{}' is empty: give the program and its arguments", field.path));
  }
  return command.value_or(std::vector<std::string>{});
}

TaskSpec read_task(SpecReader& reader, const Field& field, const std::optional<std::string>& default_image) {
  TaskSpec task;
  task.name = field.name;
  auto mapping = reader.mapping(field, {"command", "env", "secrets", "image", "cpus", "memory", "timeout"});
  if (!mapping) return task;
  if (auto* command = reader.require(*mapping, "command", "the program and arguments, e.g. [python, -m, job]")) {
    task.command = read_command(reader, *command);
  }
  if (auto* env = mapping->find("env")) assign(task.env, reader.variables(*env));
  if (auto* secrets = mapping->find("secrets")) assign(task.secrets, reader.secret_names(*secrets));
  if (auto* image = mapping->find("image")) {
    assign(task.image, reader.non_empty_string(*image));
  } else if (default_image) {
    task.image = *default_image;
  } else {
    reader.report_key(field, fmt::format("task '{}' has no image: set 'image' here or add 'publish.image'", field.name));
  }
  if (auto* cpus = mapping->find("cpus")) assign(task.cpus, reader.positive_number(*cpus));
  if (auto* memory = mapping->find("memory")) assign(task.memory_bytes, reader.memory_size(*memory));
  if (auto* timeout = mapping->find("timeout")) {
    if (auto value = reader.duration(*timeout)) task.timeout = *value;
  }
  return task;
}

}  // namespace

std::vector<TaskSpec> read_tasks_section(SpecReader& reader, const Field& field,
                                         const std::optional<std::string>& default_image) {
  std::vector<TaskSpec> tasks;
  if (auto mapping = reader.named_mapping(field, "task", NameRule::job_name)) {
    for (const auto& entry : mapping->entries) tasks.push_back(read_task(reader, entry, default_image));
  }
  return tasks;
}

}  // namespace slipway
