#include "cd/task_registry.h"

#include <cmath>

#include <fmt/core.h>

#include "base/strings.h"
#include "store/deployments.h"
#include "store/task_definitions.h"

namespace slipway {

namespace {

std::string join_repository(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

TaskRevisionRecord desired_revision(const TaskSpec& task, const std::string& environment, const std::string& repository,
                                    const std::string& image, const ImagePushRecord& push) {
  TaskRevisionRecord revision;
  revision.environment = environment;
  revision.task = task.name;
  revision.repository = repository;
  revision.image = image;
  revision.digest = push.digest;
  revision.command = task.command;
  revision.env = task.env;
  revision.secrets = task.secrets;
  revision.cpus = task.cpus;
  revision.memory_bytes = task.memory_bytes;
  revision.timeout_ms = task.timeout ? task.timeout->count() : 0;
  revision.reason = fmt::format("image {} pushed{}", short_digest(push.digest), push.tag.empty() ? "" : " as " + push.tag);
  return revision;
}

// Same image digest and same definition: nothing to register.
bool same_definition(const TaskRevisionRecord& a, const TaskRevisionRecord& b) {
  return a.repository == b.repository && a.image == b.image && a.digest == b.digest && a.command == b.command &&
         a.env == b.env && a.secrets == b.secrets && std::abs(a.cpus - b.cpus) < 1e-9 &&
         a.memory_bytes == b.memory_bytes && a.timeout_ms == b.timeout_ms;
}

}  // namespace

TaskRegistry::TaskRegistry(const ApplicationDirectory& directory, int keep) : directory_(directory), keep_(keep) {}

Result<std::optional<TaskRegistryChange>> TaskRegistry::image_pushed(Store& store, const ImagePushRecord& push) const {
  const ServerConfig& config = directory_.config();
  std::vector<TaskRevisionRecord> revisions;
  TaskRegistryChange change;
  bool concerned = false;
  // Each repository's .slipway.yml is read once per push (a git call), whatever the environments.
  std::vector<std::pair<const RepositoryConfig*, RepositorySpec>> data_tasks;
  for (const RepositoryConfig& repository : config.repositories) {
    auto spec = directory_.main_spec(repository);
    if (spec && spec->kind == Kind::data_task) data_tasks.emplace_back(&repository, std::move(*spec));
  }
  for (const EnvironmentConfig& environment : config.environments) {
    if (!environment.registry) continue;
    auto [host, prefix] = split_registry_url(environment.registry->url);
    if (host != push.registry) continue;
    for (const auto& [repository, spec] : data_tasks) {
      for (const TaskSpec& task : spec.tasks) {
        if (join_repository(prefix, task.image) != push.repository) continue;
        concerned = true;
        std::string image = host + "/" + push.repository;
        TaskRevisionRecord desired = desired_revision(task, environment.name, repository->name, image, push);
        auto active = active_task_revision(store, environment.name, task.name);
        if (!active) return active.error();
        if (*active && same_definition(**active, desired)) continue;
        revisions.push_back(std::move(desired));
        change.environment = environment.name;
        change.repository = repository->name;
        change.image = image;
      }
    }
  }
  if (!concerned) return std::optional<TaskRegistryChange>();
  change.digest = push.digest;
  change.tag = push.tag;
  if (revisions.empty()) {  // every task already runs this digest with this definition
    if (Status handled = mark_image_push_handled(store, push.event_id); !handled) return handled.error();
    return std::optional<TaskRegistryChange>(std::move(change));
  }
  auto registered = register_task_revisions(store, revisions, keep_, push.event_id);
  if (!registered) return registered.error();
  change.deregistered = registered->deregistered;
  change.schedules_moved = registered->schedules_moved;
  for (size_t i = 0; i < revisions.size(); ++i) {
    auto stored = find_task_revision_by_id(store, registered->revision_ids[i]);
    int number = stored && *stored ? (*stored)->revision : 0;
    change.tasks.push_back({revisions[i].task, number});
  }
  return std::optional<TaskRegistryChange>(std::move(change));
}

}  // namespace slipway
