// Each subcommand registers itself on the CLI11 app and, when chosen, stores its exit status in
// `exit_code`. Exit statuses: 0 success; 1 the work failed (tests failed, spec invalid);
// 2 input Slipway could not act on (no such repository, unreadable file, bad option);
// 130 interrupted.
#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <signal.h>

#include <CLI/CLI.hpp>

namespace slipway {

enum ExitCode { kExitSuccess = 0, kExitFailed = 1, kExitBadInput = 2, kExitInterrupted = 130 };

// How every command says what stopped it: "slipway <command>: <message>" on stderr. Returns
// `code`, so that a command ends with `return command_failed(...)`.
inline int command_failed(std::string_view command, std::string_view message, int code = kExitBadInput) {
  std::cerr << "slipway " << command << ": " << message << "\n";
  return code;
}

// Ctrl-C and SIGTERM call `handler` from now on: a handler that only sets a flag the command
// polls, as little else is safe in a signal handler.
inline void on_stop_signals(void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

struct GlobalOptions {
  std::string data_dir;   // --data-dir; empty: $SLIPWAY_DATA_DIR, then ~/.local/share/slipway
  // The server's own secrets, taken out of the environment before anything else runs (see
  // run_cli): what $SLIPWAY_MASTER_KEY and $SLIPWAY_ADMIN_TOKEN held, nullopt when unset.
  std::optional<std::string> master_key_variable;
  std::optional<std::string> admin_token_variable;
  std::filesystem::path resolved_data_dir() const;
};

void add_run_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_runs_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_runs_prune_command(CLI::App& runs, const GlobalOptions& global, int& exit_code);
void add_serve_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_token_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_trigger_command(CLI::App& app, int& exit_code);
void add_repo_command(CLI::App& app, int& exit_code);
void add_notify_command(CLI::App& app, int& exit_code);
void add_hook_command(CLI::App& app, int& exit_code);
void add_secret_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_deploy_command(CLI::App& app, int& exit_code);
void add_task_command(CLI::App& app, int& exit_code);

// The server's data directory: the command's own --data-dir, else the global one, else
// ./.slipway (unlike `slipway run`, a server keeps its state beside its configuration).
std::filesystem::path server_data_dir(const GlobalOptions& global, const std::string& local);

}  // namespace slipway
