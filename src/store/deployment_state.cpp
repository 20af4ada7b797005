#include "store/deployment_state.h"

#include <array>
#include <utility>

namespace slipway {

namespace {

constexpr std::array<std::pair<DeploymentState, std::string_view>, 13> kNames = {{
    {DeploymentState::queued, "queued"},
    {DeploymentState::starting, "starting"},
    {DeploymentState::health_checking, "health_checking"},
    {DeploymentState::verifying, "verifying"},
    {DeploymentState::switching, "switching"},
    {DeploymentState::baking, "baking"},
    {DeploymentState::draining, "draining"},
    {DeploymentState::retiring, "retiring"},
    {DeploymentState::rolling_back, "rolling_back"},
    {DeploymentState::succeeded, "succeeded"},
    {DeploymentState::rolled_back, "rolled_back"},
    {DeploymentState::failed, "failed"},
    {DeploymentState::superseded, "superseded"},
}};

}  // namespace

std::string_view to_text(DeploymentState state) {
  for (const auto& [value, name] : kNames) {
    if (value == state) return name;
  }
  return "failed";  // unreachable: every enumerator is in the table
}

std::optional<DeploymentState> deployment_state_from_text(std::string_view text) {
  for (const auto& [value, name] : kNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool is_before_switch(DeploymentState state) {
  switch (state) {
    case DeploymentState::queued:
    case DeploymentState::starting:
    case DeploymentState::health_checking:
    case DeploymentState::verifying:
      return true;
    default:
      return false;
  }
}

}  // namespace slipway
