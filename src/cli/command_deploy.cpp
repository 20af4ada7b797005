// `slipway deploy status|history|show|rollback`: the deployments of a running server
// ($SLIPWAY_SERVER, token $SLIPWAY_TOKEN) through its API (docs/api.md, "Deployments").
// Every answer is read with server/deployment_json.h, so the CLI and the API share field names.
#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/deploy_text.h"
#include "base/json_fields.h"
#include "cli/terminal.h"
#include "server/deployment_json.h"

namespace slipway {
namespace {

using nlohmann::json;

struct DeployOptions {
  std::string application;
  std::string environment;
  std::string reason;
  std::string server;
  int64_t id = 0;
  int limit = 20;
  bool wait = false;
  bool json = false;
};

int fail(const std::string& message, int code = kExitBadInput) { return command_failed("deploy", message, code); }

ApiClient client_for(const DeployOptions& options) { return ApiClient(server_from_environment(options.server)); }

// When nothing is listed for APP: an application the server does not know is bad input (exit 2);
// one that was never deployed just has nothing to show yet.
Status check_application(const ApiClient& client, const std::string& application) {
  if (application.empty()) return {};
  auto repository = client.get("/api/v1/repositories/" + percent_encode(application));
  if (!repository) return make_error(fmt::format("{}: {}", application, repository.error().message));
  return {};
}

std::optional<DeploymentRecord> optional_deployment(const json& entry, const char* key) {
  auto found = entry.find(key);
  if (found == entry.end() || !found->is_object()) return std::nullopt;
  return deployment_from_json(*found);
}

json optional_json(const std::optional<DeploymentRecord>& deployment) {
  return deployment ? deployment_json(*deployment) : json(nullptr);
}

int deploy_status(const DeployOptions& options) {
  ApiClient client = client_for(options);
  auto answer = client.get("/api/v1/deployments/current");
  if (!answer) return fail(answer.error().message);
  std::vector<CurrentDeployment> current;
  json listed = json::array();
  for (const auto& entry : json_list(*answer, "current")) {
    CurrentDeployment item{json_text(entry, "application"), json_text(entry, "environment"),
                           optional_deployment(entry, "deployment"), optional_deployment(entry, "active")};
    if (!options.application.empty() && item.application != options.application) continue;
    if (!options.environment.empty() && item.environment != options.environment) continue;
    listed.push_back({{"application", item.application}, {"environment", item.environment},
                      {"deployment", optional_json(item.live)}, {"active", optional_json(item.active)}});
    current.push_back(std::move(item));
  }
  if (current.empty()) {
    if (Status known = check_application(client, options.application); !known) return fail(known.error().message);
  }
  if (options.json) {
    std::cout << json{{"current", listed}}.dump(2) << "\n";
  } else {
    std::cout << (current.empty() ? "(no deployments yet)\n" : status_table(current, stream_is_terminal(stdout)));
  }
  return kExitSuccess;
}

int deploy_history(const DeployOptions& options) {
  ApiClient client = client_for(options);
  std::string path = fmt::format("/api/v1/deployments?application={}&limit={}", percent_encode(options.application),
                                 options.limit);
  if (!options.environment.empty()) path += "&environment=" + percent_encode(options.environment);
  auto answer = client.get(path);
  if (!answer) return fail(answer.error().message);
  std::vector<DeploymentRecord> deployments;
  json listed = json::array();
  for (const auto& entry : json_list(*answer, "deployments")) {
    deployments.push_back(deployment_from_json(entry));
    listed.push_back(deployment_json(deployments.back()));
  }
  if (deployments.empty()) {
    if (Status known = check_application(client, options.application); !known) return fail(known.error().message);
  }
  if (options.json) {
    std::cout << json{{"deployments", listed}}.dump(2) << "\n";
  } else {
    std::cout << (deployments.empty() ? "(no deployments yet)\n" : history_table(deployments, stream_is_terminal(stdout)));
  }
  return kExitSuccess;
}

Result<DeploymentRecord> fetch_deployment(const ApiClient& client, int64_t id) {
  auto answer = client.get(fmt::format("/api/v1/deployments/{}", id));
  if (!answer) return answer.error();
  return deployment_from_json(*answer);
}

int deploy_show(const DeployOptions& options) {
  auto deployment = fetch_deployment(client_for(options), options.id);
  if (!deployment) return fail(deployment.error().message);
  if (options.json) {
    std::cout << deployment_json(*deployment, true).dump(2) << "\n";
  } else {
    std::cout << deployment_text(*deployment, stream_is_terminal(stdout));
  }
  return kExitSuccess;
}

// Polls the deployment until it has an outcome, printing each step as it appears (unless
// --json, which prints only the end). 0 when it succeeded, 1 for any other outcome.
int wait_for_outcome(const ApiClient& client, int64_t id, bool as_json) {
  bool colour = stream_is_terminal(stdout);
  size_t printed = 0;
  for (int failures = 0;;) {
    auto deployment = fetch_deployment(client, id);
    if (!deployment) {
      if (++failures > kPollFailuresTolerated) return fail(fmt::format("deployment #{}: {}", id, deployment.error().message));
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    failures = 0;
    for (; !as_json && printed < deployment->steps.size(); ++printed) {
      std::cout << step_line(deployment->steps[printed], deployment->created_ms, colour) << std::flush;
    }
    if (deployment->outcome) {
      if (as_json) {
        std::cout << deployment_json(*deployment, true).dump(2) << "\n";
      } else {
        std::cout << outcome_line(*deployment, colour);
      }
      return deployment->outcome == DeploymentState::succeeded ? kExitSuccess : kExitFailed;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

int deploy_rollback(const DeployOptions& options) {
  ApiClient client = client_for(options);
  json body = {{"application", options.application}, {"environment", options.environment}};
  if (!options.reason.empty()) body["reason"] = options.reason;
  auto answer = client.post("/api/v1/deployments/rollback", body);
  if (!answer) return fail(fmt::format("rollback of {} in {}: {}", options.application, options.environment,
                                       answer.error().message));
  int64_t id = json_integer(*answer, "deployment");
  if (!options.wait) {
    if (options.json) {
      std::cout << json{{"deployment", id}}.dump(2) << "\n";
    } else {
      std::cout << fmt::format("Rolling back {} in {}: deployment #{}.\nFollow it:  slipway deploy show {}\n",
                               options.application, options.environment, id, id);
    }
    return kExitSuccess;
  }
  if (!options.json) {
    std::cout << fmt::format("Rolling back {} in {}: deployment #{}.\n", options.application, options.environment, id);
  }
  return wait_for_outcome(client, id, options.json);
}

void add_common_flags(CLI::App* command, DeployOptions& options) {
  command->add_option("--server", options.server,
                      "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  command->add_flag("--json", options.json, "Print JSON (the API's field names)");
}

}  // namespace

void add_deploy_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DeployOptions>();
  CLI::App* deploy = app.add_subcommand("deploy", "The server's deployments: status, history, show, rollback "
                                                  "($SLIPWAY_SERVER, token $SLIPWAY_TOKEN)");
  deploy->require_subcommand(1);

  CLI::App* status = deploy->add_subcommand("status", "Per application and environment: the live version and any "
                                                      "deployment in flight");
  status->add_option("application", options->application, "Only this application");
  status->add_option("--environment", options->environment, "Only this environment");
  add_common_flags(status, *options);
  status->callback([options, &exit_code] { exit_code = deploy_status(*options); });

  CLI::App* history = deploy->add_subcommand("history", "An application's deployments, newest first");
  history->add_option("application", options->application, "The application (a repository the server deploys)")->required();
  history->add_option("--environment", options->environment, "Only this environment");
  history->add_option("--limit", options->limit, "How many to show")->capture_default_str()->check(CLI::Range(1, 1000));
  add_common_flags(history, *options);
  history->callback([options, &exit_code] { exit_code = deploy_history(*options); });

  CLI::App* show = deploy->add_subcommand("show", "One deployment: its facts, and each step with its time from the start");
  show->add_option("id", options->id, "The deployment id (see `slipway deploy history APP`)")->required()
      ->check(CLI::PositiveNumber);
  add_common_flags(show, *options);
  show->callback([options, &exit_code] { exit_code = deploy_show(*options); });

  CLI::App* rollback = deploy->add_subcommand(
      "rollback", "Switch an application's environment back to the version before the live one (a deployer token)");
  rollback->add_option("application", options->application, "The application")->required();
  rollback->add_option("environment", options->environment, "The environment, e.g. production")->required();
  rollback->add_option("--reason", options->reason, "Why, for the history and the chat channel (default: requested)");
  rollback->add_flag("--wait", options->wait, "Print each step until the rollback ends; exit 0 only if it succeeded");
  add_common_flags(rollback, *options);
  rollback->callback([options, &exit_code] { exit_code = deploy_rollback(*options); });
}

}  // namespace slipway
