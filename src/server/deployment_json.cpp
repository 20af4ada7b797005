#include "server/deployment_json.h"

#include <string>

namespace slipway {
namespace {

using nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

int64_t integer_of(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<int64_t>() : 0;
}

}  // namespace

json deployment_step_json(const DeploymentStepRecord& step) {
  return {{"state", step.state}, {"message", step.message}, {"at_ms", step.at_ms}};
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
                 {"state", deployment.state},
                 {"outcome", deployment.outcome},
                 {"reason", deployment.reason},
                 {"slot", deployment.slot},
                 {"port", deployment.port},
                 {"container", deployment.container},
                 {"container_state", deployment.container_state},
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
  record.id = integer_of(object, "id");
  record.application = text_of(object, "application");
  record.environment = text_of(object, "environment");
  record.kind = text_of(object, "kind");
  record.image = text_of(object, "image");
  record.digest = text_of(object, "digest");
  record.tag = text_of(object, "tag");
  record.state = text_of(object, "state");
  record.outcome = text_of(object, "outcome");
  record.reason = text_of(object, "reason");
  record.slot = text_of(object, "slot");
  record.port = static_cast<int>(integer_of(object, "port"));
  record.container = text_of(object, "container");
  record.container_state = text_of(object, "container_state");
  record.previous_id = integer_of(object, "previous_id");
  auto settings = object.find("settings");
  record.settings = settings != object.end() && settings->is_object() ? settings->dump() : "{}";
  record.created_ms = integer_of(object, "created_ms");
  record.updated_ms = integer_of(object, "updated_ms");
  record.finished_ms = integer_of(object, "finished_ms");
  auto steps = object.find("steps");
  if (steps != object.end() && steps->is_array()) {
    for (const auto& step : *steps) {
      if (!step.is_object()) continue;
      record.steps.push_back({text_of(step, "state"), text_of(step, "message"), integer_of(step, "at_ms")});
    }
  }
  return record;
}

}  // namespace slipway
