// `slipway run [DIR]`: the Test stage of a repository's commit, here and now, exactly as the
// server runs it: a clean checkout in a fresh workspace, setup, services, every suite, reports.
#include <signal.h>

#include <atomic>
#include <iostream>

#include <fmt/core.h>

#include "base/files.h"
#include "base/git_objects.h"
#include "cd/container_runtime.h"
#include "cd/docker_pods.h"
#include "ci/executor.h"
#include "ci/run_executor.h"
#include "spec/spec_values.h"
#include "cli/commands.h"
#include "cli/live_printer.h"
#include "cli/secrets_input.h"
#include "cli/terminal.h"
#include "store/store.h"

namespace slipway {

namespace {

struct RunOptions {
  std::string directory = ".";
  std::string commit = "HEAD";
  std::string executor = "sandbox";
  std::string secrets_file;
  std::vector<std::string> secret_names;
  bool keep_workspace = false;
  bool json = false;
  std::string max_log_bytes = "1g";
};

std::atomic<bool> interrupted{false};

void on_interrupt(int) { interrupted.store(true); }

// Ctrl-C (or SIGTERM) cancels the run: the executors stop every step's process tree and the
// run is recorded as cancelled, rather than the process dying with children left behind.
void catch_interrupts() {
  on_stop_signals(on_interrupt);
}

Result<std::map<std::string, std::string>> gather_secrets(const RunOptions& options) {
  std::map<std::string, std::string> secrets;
  if (!options.secrets_file.empty()) {
    auto text = read_file(options.secrets_file);
    if (!text) return text.error();
    auto parsed = parse_secrets_file(*text, options.secrets_file);
    if (!parsed) return parsed.error();
    secrets = std::move(*parsed);
  }
  auto from_environment = secrets_from_environment(options.secret_names);
  if (!from_environment) return from_environment.error();
  for (auto& [name, value] : *from_environment) secrets[name] = std::move(value);
  return secrets;
}

Result<std::unique_ptr<Executor>> choose_executor(const std::string& name, const std::filesystem::path& data_dir) {
  ExecutorOptions options;
  options.hidden_paths = {data_dir};
  options.probe_record = data_dir / "sandbox-probe";
  if (name == "host") return make_host_executor(options);
  if (name == "sandbox") return make_sandbox_executor(options);
  return make_error(fmt::format("--executor {}: unknown executor (use sandbox or host)", name));
}

int print_outcome(const RunOutcome& outcome, const RunOptions& options) {
  const RunRecord& run = outcome.run;
  int status = run.status == RunStatus::passed ? kExitSuccess : run.status == RunStatus::cancelled ? kExitInterrupted : kExitFailed;
  if (options.json) {
    nlohmann::json answer = {{"run", run.id},         {"repository", run.repository}, {"commit", run.commit},
                             {"status", run.status},  {"reason", run.reason},         {"diagnostics", outcome.diagnostics},
                             {"report_dir", run.report_dir}};
    if (outcome.report) answer["report"] = report_to_json(*outcome.report);
    std::cout << answer.dump(2) << "\n";
    return status;
  }
  bool colour = stream_is_terminal(stdout);
  for (const auto& diagnostic : outcome.diagnostics) std::cout << styled(diagnostic, Style::red, colour) << "\n";
  if (outcome.report) std::cout << "\n" << render_report_text(*outcome.report, colour);
  std::string verdict = fmt::format("Run #{} {}", run.id, to_text(run.status));
  if (!run.reason.empty() && run.status != RunStatus::passed) verdict += ": " + run.reason;
  std::cout << "\n" << styled(verdict, status_style(run.status), colour) << "\n";
  if (!run.report_dir.empty()) std::cout << fmt::format("Report: {}/report.html\n", run.report_dir);
  std::cout << fmt::format("Logs:   slipway runs logs {}\n", run.id);
  return status;
}

int run_locally(const RunOptions& options, const GlobalOptions& global) {
  auto fail = [](const std::string& message) { return command_failed("run", message); };
  auto secrets = gather_secrets(options);
  if (!secrets) return fail(secrets.error().message);
  auto max_log_bytes = parse_memory_size(options.max_log_bytes);
  if (!max_log_bytes) return fail("--max-log-bytes: " + max_log_bytes.error().message);
  // The repository's git loads while the executor and the store are set up.
  GitObjects::of(options.directory)->start_early();
  DataDirectory data{global.resolved_data_dir()};
  auto executor = choose_executor(options.executor, data.root);
  if (!executor) return fail(executor.error().message);
  auto store = Store::open(data.database());
  if (!store) return fail(store.error().message);

  become_subreaper();
  catch_interrupts();
  // Service containers a killed `slipway run` left go now; with no Docker Engine there are none,
  // and a job that needs one says so itself.
  DockerContainerRuntime containers;
  DockerPods pods(containers, std::filesystem::absolute(data.root).string());
  if (std::filesystem::exists(containers.socket_path())) (void)pods.remove_leftovers();
  LocalRunRequest request;
  request.pods = &pods;
  request.repository = options.directory;
  request.revision = options.commit;
  request.secrets = std::move(*secrets);
  request.keep_workspace = options.keep_workspace;
  request.max_log_bytes = static_cast<uint64_t>(*max_log_bytes);
  // With --json, stdout carries only the answer; the live log goes to stderr.
  FILE* live_stream = options.json ? stderr : stdout;
  LivePrinter printer(live_stream, stream_is_terminal(live_stream));
  RunExecutor runner(data, **store, **executor);
  auto outcome = runner.run(request, &printer, &interrupted);
  if (!outcome) return fail(outcome.error().message);
  return print_outcome(*outcome, options);
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Run the Test stage of a repository's commit here, as the server would");
  command->add_option("directory", options->directory, "The git repository (default: the current folder)");
  command->add_option("--commit", options->commit, "The commit to test (default: HEAD)");
  command->add_option("--executor", options->executor, "sandbox (namespaces, the default) or host")
      ->check(CLI::IsMember({"sandbox", "host"}));
  command->add_option("--secrets-file", options->secrets_file, "A file of NAME=value lines, passed as secrets");
  command->add_option("--secret", options->secret_names,
                      "A secret whose value is read from the environment variable of the same name (repeatable)");
  command->add_flag("--keep-workspace", options->keep_workspace, "Keep the checkout after the run, for debugging");
  command->add_option("--max-log-bytes", options->max_log_bytes,
                      "Each step's log is cut at this size, further output dropped (e.g. 512m, 1g)")
      ->capture_default_str();
  command->add_flag("--json", options->json, "Print the outcome as JSON on stdout (live logs go to stderr)");
  command->callback([options, &global, &exit_code] { exit_code = run_locally(*options, global); });
}

}  // namespace slipway
