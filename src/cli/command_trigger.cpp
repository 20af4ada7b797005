// `slipway trigger REPO`: asks a running server for a manual run of a repository (its main
// branch's head, or a named branch or commit), optionally publishing to an environment.
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "cli/api_client.h"
#include "cli/commands.h"

namespace slipway {
namespace {

struct TriggerOptions {
  std::string repository;
  std::string commit;
  std::string branch;
  std::string environment;
  std::string server;
  bool json = false;
};

int trigger(const TriggerOptions& options) {
  ApiClient client(server_from_environment(options.server));
  nlohmann::json body = nlohmann::json::object();
  if (!options.commit.empty()) body["commit"] = options.commit;
  if (!options.branch.empty()) body["branch"] = options.branch;
  if (!options.environment.empty()) body["environment"] = options.environment;
  auto answer = client.post(fmt::format("/api/v1/repositories/{}/trigger", percent_encode(options.repository)), body);
  if (!answer) return command_failed("trigger", answer.error().message);
  if (options.json) {
    std::cout << answer->dump(2) << "\n";
    return kExitSuccess;
  }
  auto id = answer->value("id", int64_t{0});
  std::cout << fmt::format("Queued run #{} of {}.\n", id, options.repository)
            << fmt::format("Follow it:  slipway runs show {0}   and   slipway runs logs {0} --follow\n", id);
  return kExitSuccess;
}

}  // namespace

void add_trigger_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TriggerOptions>();
  CLI::App* command = app.add_subcommand("trigger", "Ask the server ($SLIPWAY_SERVER) for a manual run of a repository");
  command->add_option("repository", options->repository, "A repository the server builds")->required();
  command->add_option("--commit", options->commit, "The commit to run (default: the branch's head)");
  command->add_option("--branch", options->branch, "The branch (default: the repository's main branch)");
  command->add_option("--environment", options->environment,
                      "The environment to publish to once Test passes, e.g. development (production only from the main branch)");
  command->add_option("--server", options->server, "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  command->add_flag("--json", options->json, "Print the server's answer as JSON");
  command->callback([options, &exit_code] { exit_code = trigger(*options); });
}

}  // namespace slipway
