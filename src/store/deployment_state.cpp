#include "store/deployment_state.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "base/enum_text.h"

namespace slipway {

namespace {

constexpr EnumText<DeploymentState, 13> kNames = {{{
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
}}};

constexpr EnumText<ContainerState, 5> kContainerStates = {{{
    {ContainerState::none, ""},
    {ContainerState::running, "running"},
    {ContainerState::stopped, "stopped"},
    {ContainerState::removed, "removed"},
    {ContainerState::moved, "moved"},
}}};

}  // namespace

std::string_view to_text(ContainerState state) { return kContainerStates.text(state); }

ContainerState container_state_from_text(std::string_view text) {
  return kContainerStates.parse(text).value_or(ContainerState::removed);
}

std::string_view to_text(DeploymentState state) { return kNames.text(state); }

std::optional<DeploymentState> deployment_state_from_text(std::string_view text) { return kNames.parse(text); }

std::ostream& operator<<(std::ostream& out, DeploymentState state) { return out << to_text(state); }

void to_json(nlohmann::json& json, DeploymentState state) { json = to_text(state); }

std::string_view outcome_text(const DeploymentOutcome& outcome) { return outcome ? to_text(*outcome) : ""; }

DeploymentOutcome deployment_outcome_from_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return deployment_state_from_text(text).value_or(DeploymentState::failed);
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
