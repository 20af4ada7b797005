// `slipway serve`: the server — runs the pipeline on pushes and manual triggers, serves the API
// and the web UI — until SIGTERM or SIGINT, which stop it gracefully.
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "ci/job_sandbox.h"
#include "cli/commands.h"
#include "server/auth.h"
#include "server/server.h"
#include "spec/server_config.h"

namespace slipway {

namespace {

struct ServeOptions {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::string log_level = "info";
};

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

// The handler only sets a flag; the main thread polls it. (Blocking the signals and waiting
// with sigwait would be neater, but the mask would be inherited by every step's process.)
void install_stop_handlers() {
  on_stop_signals(request_stop);
}

int fail(const std::string& message) { return command_failed("serve", message); }

// A server runs for years: what it frees should go back to the system, not stay behind in a
// malloc arena per thread that once allocated. One arena — the server's threads seldom allocate
// at the same moment: a run's work is processes and I/O — and a fixed 64 KiB trim threshold
// (glibc's grows with the largest block freed, and per-thread arenas keep their freed pages)
// keep RSS flat: `bench/memory.sh` printed +0.6 MiB over 10 000 runs, against +1.1 MiB with
// glibc's defaults. Set before the first thread starts.
void keep_heap_small() {
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024);
}

// The configuration: the file's when --config is given, else the defaults; --listen wins.
std::optional<ServerConfig> load_config(const ServeOptions& options) {
  ServerConfig config;
  if (!options.config_file.empty()) {
    auto text = read_file(options.config_file);
    if (!text) {
      command_failed("serve", text.error().message);
      return std::nullopt;
    }
    auto parsed = parse_server_config(*text, options.config_file);
    for (const auto& diagnostic : parsed.diagnostics) std::cerr << diagnostic.to_string() << "\n";
    if (!parsed.ok()) return std::nullopt;
    config = *parsed.config;
  }
  if (!options.listen.empty()) config.listen = options.listen;
  return config;
}

int serve(const ServeOptions& options, const GlobalOptions& global) {
  if (global.admin_token_variable && !global.admin_token_variable->empty()) {
    if (Status strong = check_admin_token(*global.admin_token_variable); !strong) return fail(strong.error().message);
  }
  // Everything the server creates — data directory, database, logs, keys — is its user's alone.
  ::umask(077);
  keep_heap_small();
  auto level = spdlog::level::from_str(options.log_level);
  if (level == spdlog::level::off && options.log_level != "off") {
    return fail("--log-level " + options.log_level + ": use debug, info, warn or error");
  }
  spdlog::set_level(level);
  auto config = load_config(options);
  if (!config) return kExitBadInput;
  ServerOptions server_options;
  server_options.data = DataDirectory{server_data_dir(global, options.data_dir)};
  const std::string server_config_executor = config->executor;
  const JobLimits server_config_limits = config->limits;
  server_options.config = std::move(*config);
  server_options.admin_token = global.admin_token_variable.value_or("");
  server_options.master_key_variable = global.master_key_variable;
  install_stop_handlers();
  Server server(std::move(server_options));
  auto admin_token = server.start();
  if (!admin_token) return fail(admin_token.error().message);
  std::string data = server_data_dir(global, options.data_dir).string();
  std::cout << fmt::format("slipway serving on http://{} (data: {})\n", server.address(), data);
  std::cout << describe_disk_usage(server.disk_usage()) << "\n";
  std::cout << describe_job_isolation(server_config_executor, server_config_limits) << "\n";
  if (!admin_token->empty()) {
    std::cout << fmt::format("admin token (shown only this once; it is stored hashed): {}\n", *admin_token);
  }
  std::cout.flush();
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "slipway serve: stopping\n" << std::flush;
  server.stop();
  return kExitSuccess;
}

}  // namespace

std::filesystem::path server_data_dir(const GlobalOptions& global, const std::string& local) {
  // Absolute, because steps run in workspaces under it whatever their working directory.
  if (!local.empty()) return std::filesystem::absolute(local);
  if (!global.data_dir.empty()) return std::filesystem::absolute(global.data_dir);
  return std::filesystem::absolute(".slipway");
}

void add_serve_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "Run the server: the pipeline on every push and manual trigger, the API, the web UI");
  command->add_option("--config", options->config_file, "The server configuration (slipway.yml, see docs)");
  command->add_option("--listen", options->listen, "HOST:PORT to listen on (default 127.0.0.1:7700, or the config's)");
  command->add_option("--data-dir", options->data_dir, "Where the database and runs are kept (default ./.slipway)");
  command->add_option("--log-level", options->log_level, "debug (one line per request), info, warn or error")
      ->capture_default_str();
  command->footer("The admin token comes from $SLIPWAY_ADMIN_TOKEN when set (at least 32 characters); otherwise one\n"
                  "is generated at the first start and printed once. $SLIPWAY_ADMIN_TOKEN and $SLIPWAY_MASTER_KEY are\n"
                  "read once and removed from the environment. SIGTERM or Ctrl-C stops the server gracefully.");
  command->callback([options, &global, &exit_code] { exit_code = serve(*options, global); });
}

}  // namespace slipway
