// `slipway repo check NAME`: asks the server to reach a repository with its own credentials
// and say what it found — the same diagnosis a failed fetch gives a run (authentication refused,
// host key mismatch, not found, network unreachable). The credentials stay in the server.
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "cli/api_client.h"
#include "cli/commands.h"

namespace slipway {
namespace {

struct RepoCheckOptions {
  std::string repository;
  std::string server;
  bool json = false;
};

int check_repository(const RepoCheckOptions& options) {
  ApiClient client(server_from_environment(options.server));
  auto answer = client.post(fmt::format("/api/v1/repositories/{}/check", percent_encode(options.repository)),
                            nlohmann::json::object());
  if (!answer) return command_failed("repo check", answer.error().message);
  bool ok = answer->value("ok", false);
  if (options.json) {
    std::cout << answer->dump(2) << "\n";
  } else if (ok) {
    std::cout << fmt::format("{}: {} answers\n", options.repository, answer->value("url", ""));
  } else {
    std::cerr << fmt::format("{}: {}\n", options.repository, answer->value("diagnosis", ""));
  }
  return ok ? kExitSuccess : kExitFailed;
}

}  // namespace

void add_repo_command(CLI::App& app, int& exit_code) {
  CLI::App* repo = app.add_subcommand("repo", "Look at the repositories the server builds");
  repo->require_subcommand(1);
  auto options = std::make_shared<RepoCheckOptions>();
  CLI::App* check = repo->add_subcommand(
      "check", "Reach a repository with the server's credentials and diagnose what fails (exit 1 when it does)");
  check->add_option("repository", options->repository, "A repository the server builds")->required();
  check->add_option("--server", options->server, "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  check->add_flag("--json", options->json, "Print the server's answer as JSON");
  check->callback([options, &exit_code] { exit_code = check_repository(*options); });
}

}  // namespace slipway
