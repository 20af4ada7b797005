#include "cd/orphan_containers.h"

#include <set>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "store/deployments.h"

namespace slipway {

Status remove_orphan_containers(Store& store, ContainerRuntime& containers, const std::string& owner) {
  auto labelled = containers.list({{"slipway.owner", owner}, {"slipway.deployment", ""}});
  if (!labelled) return labelled.error();
  auto all = list_deployments(store, {"", "", false, 0, 100000});
  if (!all) return all.error();
  std::set<std::string> accounted;
  for (const DeploymentRecord& deployment : *all) {
    bool holds = !deployment.outcome || deployment.container_state == ContainerState::running ||
                 deployment.container_state == ContainerState::stopped;
    if (holds && !deployment.container.empty()) accounted.insert(deployment.container);
  }
  for (const ContainerSummary& container : *labelled) {
    if (accounted.count(container.name)) continue;
    spdlog::info("removing container {}: no deployment accounts for it", container.name);
    if (Status removed = containers.remove(container.name, true); !removed) {
      spdlog::warn("removing orphan container {}: {}", container.name, removed.error().message);
    }
  }
  return {};
}

}  // namespace slipway
