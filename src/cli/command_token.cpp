// `slipway token create NAME --role ROLE` and `slipway token list`: API tokens, managed directly
// on the server's data directory (for the first tokens, or when the admin token is lost).
#include <iostream>

#include <fmt/core.h>

#include "base/time.h"
#include "cli/commands.h"
#include "server/auth.h"
#include "store/api_tokens.h"
#include "store/store.h"

namespace slipway {

namespace {

struct TokenOptions {
  std::string name;
  std::string role = "read-only";
  std::string data_dir;
};

int fail(const std::string& message) { return command_failed("token", message); }

Result<std::unique_ptr<Store>> open_server_store(const TokenOptions& options, const GlobalOptions& global) {
  auto root = server_data_dir(global, options.data_dir);
  if (!std::filesystem::exists(root / "slipway.db")) {
    return make_error(fmt::format("no server data in {} (start `slipway serve` there first, or pass --data-dir)",
                                  std::filesystem::absolute(root).string()));
  }
  return Store::open(root / "slipway.db");
}

int create_token(const TokenOptions& options, const GlobalOptions& global) {
  auto role = parse_role(options.role);
  if (!role) return fail(fmt::format("--role {}: use admin, deployer or read-only", options.role));
  auto store = open_server_store(options, global);
  if (!store) return fail(store.error().message);
  auto token = issue_api_token(**store, options.name, *role);
  if (!token) return fail(token.error().message);
  std::cerr << fmt::format("token '{}' ({}) created; it is shown only this once:\n", options.name, options.role);
  std::cout << *token << "\n";
  return kExitSuccess;
}

int list_tokens(const TokenOptions& options, const GlobalOptions& global) {
  auto store = open_server_store(options, global);
  if (!store) return fail(store.error().message);
  auto tokens = list_api_tokens(**store);
  if (!tokens) return fail(tokens.error().message);
  std::cout << fmt::format("{:>4}  {:<30} {:<10} {}\n", "ID", "NAME", "ROLE", "LAST USED");
  for (const auto& token : *tokens) {
    std::cout << fmt::format("{:>4}  {:<30} {:<10} {}\n", token.id, token.name, token.role,
                             token.last_used_ms ? format_timestamp(token.last_used_ms) : "never");
  }
  return kExitSuccess;
}

}  // namespace

void add_token_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<TokenOptions>();
  CLI::App* token = app.add_subcommand("token", "API tokens of the server in the data directory");
  token->require_subcommand(1);
  CLI::App* create = token->add_subcommand("create", "Create a token and print it (once)");
  create->add_option("name", options->name, "Who or what it is for, e.g. ci-bot")->required();
  create->add_option("--role", options->role, "admin, deployer or read-only")->capture_default_str();
  create->add_option("--data-dir", options->data_dir, "The server's data directory (default ./.slipway)");
  create->callback([options, &global, &exit_code] { exit_code = create_token(*options, global); });
  CLI::App* list = token->add_subcommand("list", "List the tokens (never their values)");
  list->add_option("--data-dir", options->data_dir, "The server's data directory (default ./.slipway)");
  list->callback([options, &global, &exit_code] { exit_code = list_tokens(*options, global); });
}

}  // namespace slipway
