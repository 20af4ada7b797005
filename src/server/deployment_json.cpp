#include "server/deployment_json.h"

#include <string>

#include "base/json_fields.h"

namespace slipway {

using nlohmann::json;

json deployment_step_json(const DeploymentStepRecord& step) {
  return {{"state", to_text(step.state)}, {"message", step.message}, {"at_ms", step.at_ms}};
}

json deployment_json(const DeploymentRecord& deployment, bool with_steps) {
  // Stored by the controller from its own settings; should it ever not parse, the rest of the
  // record is still worth showing.
  json settings = json::parse(deployment.settings, nullptr, false);
  if (settings.is_discarded() || !settings.is_object()) settings = json::object();
  json answer = {{"id", deployment.id},
                 {"application", deployment.application},
                 {"environment", deployment.environment},
                 {"kind", deployment.kind},
                 {"image", deployment.image},
                 {"digest", deployment.digest},
                 {"tag", deployment.tag},
                 {"state", to_text(deployment.state)},
                 {"outcome", outcome_text(deployment.outcome)},
                 {"reason", deployment.reason},
                 {"slot", deployment.slot},
                 {"port", deployment.port},
                 {"container", deployment.container},
                 {"container_state", to_text(deployment.container_state)},
                 {"previous_id", deployment.previous_id},
                 {"settings", std::move(settings)},
                 {"created_ms", deployment.created_ms},
                 {"updated_ms", deployment.updated_ms},
                 {"finished_ms", deployment.finished_ms}};
  if (with_steps) {
    answer["steps"] = json::array();
    for (const auto& step : deployment.steps) answer["steps"].push_back(deployment_step_json(step));
  }
  return answer;
}

DeploymentRecord deployment_from_json(const json& object) {
  DeploymentRecord record;
  if (!object.is_object()) return record;
  record.id = json_integer(object, "id");
  record.application = json_text(object, "application");
  record.environment = json_text(object, "environment");
  record.kind = json_text(object, "kind");
  record.image = json_text(object, "image");
  record.digest = json_text(object, "digest");
  record.tag = json_text(object, "tag");
  record.state = deployment_state_from_text(json_text(object, "state")).value_or(DeploymentState::failed);
  record.outcome = deployment_outcome_from_text(json_text(object, "outcome"));
  record.reason = json_text(object, "reason");
  record.slot = json_text(object, "slot");
  record.port = static_cast<int>(json_integer(object, "port"));
  record.container = json_text(object, "container");
  record.container_state = container_state_from_text(json_text(object, "container_state"));
  record.previous_id = json_integer(object, "previous_id");
  auto settings = object.find("settings");
  record.settings = settings != object.end() && settings->is_object() ? settings->dump() : "{}";
  record.created_ms = json_integer(object, "created_ms");
  record.updated_ms = json_integer(object, "updated_ms");
  record.finished_ms = json_integer(object, "finished_ms");
  auto steps = object.find("steps");
  if (steps != object.end() && steps->is_array()) {
    for (const auto& step : *steps) {
      if (!step.is_object()) continue;
      record.steps.push_back({deployment_state_from_text(json_text(step, "state")).value_or(DeploymentState::failed),
                              json_text(step, "message"), json_integer(step, "at_ms")});
    }
  }
  return record;
}

}  // namespace slipway
