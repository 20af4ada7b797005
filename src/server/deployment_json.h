// Deployments as the API shows them (docs/api.md, "Deployments"), and back: the one place that
// names their JSON fields, so the server's answers and `slipway deploy` read the same names.
// Reading back is defensive (a missing or mistyped field reads as empty), as a CLI may meet a
// server of another version.
#pragma once

#include <nlohmann/json.hpp>

#include "store/deployments.h"

namespace slipway {

// Every DeploymentRecord field; "settings" as a JSON object (an unreadable one as {}). "steps"
// only when `with_steps`: [{state, message, at_ms}], oldest first.
nlohmann::json deployment_json(const DeploymentRecord& deployment, bool with_steps = false);
nlohmann::json deployment_step_json(const DeploymentStepRecord& step);

// The record from deployment_json's shape; "settings" back to its text, "steps" when present.
DeploymentRecord deployment_from_json(const nlohmann::json& json);

}  // namespace slipway
