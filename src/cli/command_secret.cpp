// `slipway secret set|list|rm|apply`: the secrets jobs receive (docs/secrets.md), and with
// --server-only the server's own (webhook keys, never a job's), kept by a
// server's API when one is named (--server or $SLIPWAY_SERVER), else in the server data
// directory on this machine (cli/secret_source.h). Values only ever come in, on standard input
// or by reference from an apply file; nothing here prints one.
#include <iostream>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/time.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/secret_file.h"
#include "cli/secret_prompt.h"
#include "cli/secret_source.h"

namespace slipway {
namespace {

struct SecretOptions {
  std::string server;      // --server; "" falls back to $SLIPWAY_SERVER unless a data dir is given
  std::string data_dir;    // --data-dir
  std::string repository, environment, name;
  std::string file;
  bool server_only = false;  // --server-only: the server's own secrets (webhook keys), by NAME alone
  bool dry_run = false;
  bool json = false;
};

int fail(const std::string& message, int code = kExitBadInput) { return command_failed("secret", message, code); }

Result<std::unique_ptr<SecretSource>> open_source(const SecretOptions& options, const GlobalOptions& global) {
  std::string server = options.server;
  if (server.empty() && global.data_dir.empty() && options.data_dir.empty()) server = server_from_environment("");
  if (!server.empty()) return server_secret_source(server);
  return local_secret_source(server_data_dir(global, options.data_dir), global.master_key_variable);
}

nlohmann::json entry_json(const SecretEntry& entry) {
  return {{"repository", entry.repository}, {"environment", entry.environment}, {"name", entry.name},
          {"created_ms", entry.created_ms}, {"updated_ms", entry.updated_ms}};
}

// The address the positional arguments give: REPO ENV NAME, or NAME alone with --server-only
// (then in `repository`, the first). An Error says which form is expected.
Result<SecretOptions> secret_address(SecretOptions options) {
  if (options.server_only) {
    if (options.repository.empty() || !options.environment.empty()) {
      return make_error("with --server-only, give the secret's NAME alone (e.g. slipway secret set --server-only "
                        "HELLO_WEBHOOK_SECRET)");
    }
    options.name = options.repository;
    options.repository = options.environment = std::string(kServerScope);
    if (Status valid = check_secret_name(options.name); !valid) return valid.error();
    return options;
  }
  if (options.name.empty()) {
    return make_error("give REPO ENV NAME (a repository or '*', an environment or '*', the secret's name), or "
                      "--server-only NAME for a server secret");
  }
  if (Status valid = check_secret_address(options.repository, options.environment, options.name); !valid) {
    return valid.error();
  }
  return options;
}

// One secret's address checked, its words for messages, and the store holding it opened: what
// `set` and `rm` both start from.
struct AddressedSecret {
  SecretOptions options;
  std::string what;  // "secret NAME of REPO in ENV"
  std::unique_ptr<SecretSource> source;
};

Result<AddressedSecret> open_addressed(const SecretOptions& given, const GlobalOptions& global) {
  auto address = secret_address(given);
  if (!address) return address.error();
  std::string what = describe_secret(address->repository, address->environment, address->name);
  auto source = open_source(*address, global);
  if (!source) return source.error();
  return AddressedSecret{*address, std::move(what), std::move(*source)};
}

int set_secret(const SecretOptions& given, const GlobalOptions& global, const std::vector<std::string>& extra) {
  if (!extra.empty()) {
    // Not quoted: what was typed there may well be the secret.
    return fail("`secret set` takes REPO ENV NAME (or --server-only NAME) and reads the value from standard input, "
                "never from the command line (which `ps` and shell histories keep): printf %s \"$VALUE\" | slipway "
                "secret set REPO ENV NAME");
  }
  auto secret = open_addressed(given, global);
  if (!secret) return fail(secret.error().message);
  const auto& [options, what, source] = *secret;
  auto value = read_secret_value(fmt::format("Value of {} (not echoed): ", what));
  if (!value) return fail(value.error().message);
  if (value->empty()) {
    return fail(fmt::format("{}: no value on standard input (pipe it in, e.g. printf %s \"$VALUE\" | slipway secret "
                            "set ...; to delete a secret use `slipway secret rm`)", what));
  }
  Status saved = options.server_only ? source->set_server(options.name, *value)
                                     : source->set({options.repository, options.environment, options.name, *value});
  if (!saved) return fail(saved.error().message);
  std::cout << fmt::format("{} set\n", what);
  return kExitSuccess;
}

int list_secrets(const SecretOptions& options, const GlobalOptions& global) {
  auto source = open_source(options, global);
  if (!source) return fail(source.error().message);
  if (options.server_only && (!options.repository.empty() || !options.environment.empty())) {
    return fail("--server-only lists the server secrets, which belong to no repository or environment");
  }
  auto entries = options.server_only ? (*source)->list_server()
                                     : (*source)->list(options.repository, options.environment);
  if (!entries) return fail(entries.error().message);
  if (options.json) {
    nlohmann::json answer = nlohmann::json::array();
    for (const auto& entry : *entries) answer.push_back(entry_json(entry));
    std::cout << answer.dump(2) << "\n";
    return kExitSuccess;
  }
  std::cout << fmt::format("{:<20} {:<14} {:<30} {}\n", "REPOSITORY", "ENVIRONMENT", "NAME", "UPDATED");
  for (const auto& entry : *entries) {
    std::cout << fmt::format("{:<20} {:<14} {:<30} {}\n", entry.repository, entry.environment, entry.name,
                             format_timestamp(entry.updated_ms).substr(0, 19));
  }
  if (entries->empty() && options.server_only) {
    std::cout << "(no server secrets: `slipway secret set --server-only NAME` adds one)\n";
  } else if (entries->empty()) {
    std::cout << "(no secrets: `slipway secret set REPO ENV NAME` adds one)\n";
  }
  return kExitSuccess;
}

int remove_secret(const SecretOptions& given, const GlobalOptions& global) {
  auto secret = open_addressed(given, global);
  if (!secret) return fail(secret.error().message);
  const auto& [options, what, source] = *secret;
  auto removed = options.server_only ? source->remove_server(options.name)
                                     : source->remove(options.repository, options.environment, options.name);
  if (!removed) return fail(removed.error().message);
  if (!*removed) {
    return fail(fmt::format("no {} to remove (`slipway secret list{}` shows them)", what,
                            options.server_only ? " --server-only" : ""), kExitFailed);
  }
  std::cout << fmt::format("{} removed\n", what);
  return kExitSuccess;
}

void print_actions(const std::vector<SecretAction>& actions, bool dry_run, bool json) {
  std::map<std::string, int> counts = {{"added", 0}, {"updated", 0}, {"unchanged", 0}, {"removed", 0}};
  nlohmann::json listed = nlohmann::json::array();
  if (dry_run && !json) std::cout << "Dry run: what apply would do (nothing is changed):\n";
  for (const auto& action : actions) {
    ++counts[action.action];
    listed.push_back({{"repository", action.repository}, {"environment", action.environment},
                      {"name", action.name}, {"action", action.action}});
    if (!json) {
      std::cout << fmt::format("{:<10} {:<20} {:<14} {}\n", action.action, action.repository, action.environment,
                               action.name);
    }
  }
  if (json) {
    std::cout << nlohmann::json{{"dry_run", dry_run}, {"actions", listed}, {"summary", counts}}.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{} added, {} updated, {} unchanged, {} removed{}\n", counts["added"], counts["updated"],
                           counts["unchanged"], counts["removed"], dry_run ? " (dry run: nothing was changed)" : "");
}

int apply_secrets(const SecretOptions& options, const GlobalOptions& global) {
  auto text = read_file(options.file);
  if (!text) return fail(text.error().message);
  auto parsed = parse_secret_file(*text, options.file);
  if (!parsed.diagnostics.empty()) {
    for (const auto& diagnostic : parsed.diagnostics) std::cerr << diagnostic.to_string() << "\n";
    return fail(fmt::format("{} is not valid: nothing was changed", options.file), kExitFailed);
  }
  // Every value is read before anything is touched: a missing one aborts the whole apply.
  auto values = read_secret_values(parsed.secrets, std::filesystem::path(options.file).parent_path());
  if (!values) return fail(values.error().message + "\nnothing was changed");
  auto source = open_source(options, global);
  if (!source) return fail(source.error().message);
  auto actions = (*source)->apply(*values, options.dry_run);
  if (!actions) return fail(actions.error().message + "\nnothing was changed");
  print_actions(*actions, options.dry_run, options.json);
  return kExitSuccess;
}

// REPO ENV NAME, or NAME alone with --server-only: checked by secret_address(), not by the parser.
void add_address(CLI::App* command, SecretOptions& options) {
  command->add_option("repository", options.repository,
                      "A repository's name, or '*' for every repository (with --server-only: the NAME)");
  command->add_option("environment", options.environment, "An environment's name, or '*' for every environment");
  command->add_option("name", options.name, "The secret's name, e.g. DATABASE_URL");
  command->add_flag("--server-only", options.server_only,
                    "A server secret (a webhook's key): the server's own, never given to a job; give NAME alone");
}

}  // namespace

void add_secret_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<SecretOptions>();
  CLI::App* secret = app.add_subcommand(
      "secret", "Secrets given to jobs, per repository ('*': all) and environment ('*': all): set, list, rm, apply");
  secret->require_subcommand(1);
  secret->fallthrough();  // `slipway secret list --server URL` as well as `slipway secret --server URL list`
  secret->add_option("--server", options->server,
                     "Use this server's API with $SLIPWAY_TOKEN, an admin's (default: $SLIPWAY_SERVER when set and no "
                     "--data-dir is given)");
  secret->add_option("--data-dir", options->data_dir, "The server's data directory, used directly (default ./.slipway)");

  CLI::App* set = secret->add_subcommand(
      "set", "Set a secret; the value is read from standard input (on a terminal: typed, not echoed)");
  add_address(set, *options);
  // Anything after NAME is collected rather than reported by the parser, which would print it
  // (it may be the value): no fall-through to the parent, so `set` takes the parent's options
  // itself.
  set->fallthrough(false);
  set->allow_extras();
  set->add_option("--server", options->server, "As for `slipway secret --server`");
  set->add_option("--data-dir", options->data_dir, "As for `slipway secret --data-dir`");
  set->callback([options, &global, &exit_code, set] { exit_code = set_secret(*options, global, set->remaining()); });

  CLI::App* list = secret->add_subcommand("list", "List secrets: names and update times, never values");
  list->add_option("repository", options->repository, "Only this repository's secrets ('*': the shared ones)");
  list->add_option("--environment", options->environment, "Only this environment's secrets ('*': the shared ones)");
  list->add_flag("--server-only", options->server_only, "List the server secrets (webhook keys) instead");
  list->add_flag("--json", options->json, "Print JSON");
  list->callback([options, &global, &exit_code] { exit_code = list_secrets(*options, global); });

  CLI::App* rm = secret->add_subcommand("rm", "Remove a secret (exit status 1 when there is none)");
  add_address(rm, *options);
  rm->callback([options, &global, &exit_code] { exit_code = remove_secret(*options, global); });

  CLI::App* apply = secret->add_subcommand(
      "apply", "Make the secrets match a YAML file exactly (values by reference: from_env or from_file)");
  apply->add_option("file", options->file, "The file, e.g. secrets.yml (see docs/secrets.md)")->required();
  apply->add_flag("--dry-run", options->dry_run, "Print what would change, change nothing");
  apply->add_flag("--json", options->json, "Print JSON");
  apply->callback([options, &global, &exit_code] { exit_code = apply_secrets(*options, global); });
}

}  // namespace slipway
