// `slipway runs list|show|logs` (and prune, in command_runs_prune.cpp): the run history, from a server's API when one is named
// (--server or $SLIPWAY_SERVER), else this machine's store and log files (cli/runs_source.h).
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "ci/step_log.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/runs_source.h"
#include "cli/terminal.h"
#include "server/api_json.h"
#include "store/store.h"

namespace slipway {

namespace {

struct RunsOptions {
  RunFilter filter;
  int64_t run_id = 0;
  std::string step;
  bool timestamps = false;
  bool json = false;
  bool follow = false;
  std::string server;   // --server; "" falls back to $SLIPWAY_SERVER
};

std::string duration_of(int64_t started_ms, int64_t finished_ms) {
  if (started_ms == 0) return "-";
  int64_t end = finished_ms ? finished_ms : now_ms();
  return format_duration(Milliseconds(end - started_ms));
}

// The API's form of a run (server/api_json.h: the same fields a server answers with, text from
// outside sanitized), plus what only this machine's history knows: where it came from and where
// its report is.
nlohmann::json local_run_json(const RunRecord& run) {
  nlohmann::json json = run_json(run);
  json["source"] = run.source;
  json["report_dir"] = run.report_dir;
  return json;
}

int fail(const std::string& message) { return command_failed("runs", message); }

// A server when one is named (--server, else $SLIPWAY_SERVER unless --data-dir was given),
// otherwise this machine's data directory.
Result<std::unique_ptr<RunsSource>> open_source(const RunsOptions& options, const GlobalOptions& global) {
  std::string server = options.server;
  if (server.empty() && global.data_dir.empty()) server = server_from_environment("");
  if (!server.empty()) return server_runs_source(server);
  return local_runs_source(global.resolved_data_dir());
}

// The run --run-id names, with the source it came from (which reads its logs).
struct OpenedRun {
  std::unique_ptr<RunsSource> source;
  RunDetail detail;
};

Result<OpenedRun> open_run(const RunsOptions& options, const GlobalOptions& global) {
  auto source = open_source(options, global);
  if (!source) return source.error();
  auto detail = (*source)->detail(options.run_id);
  if (!detail) return detail.error();
  return OpenedRun{std::move(*source), std::move(*detail)};
}

int list_runs(const RunsOptions& options, const GlobalOptions& global) {
  auto source = open_source(options, global);
  if (!source) return fail(source.error().message);
  auto runs = (*source)->list(options.filter);
  if (!runs) return fail(runs.error().message);
  if (options.json) {
    nlohmann::json answer = nlohmann::json::array();
    for (const auto& run : *runs) answer.push_back(local_run_json(run));
    std::cout << answer.dump(2) << "\n";
    return kExitSuccess;
  }
  bool colour = stream_is_terminal(stdout);
  std::cout << fmt::format("{:>6}  {:<10} {:<20} {:<12} {:<14} {:<8} {:<20} {}\n", "RUN", "STATUS", "REPOSITORY",
                           "COMMIT", "BRANCH", "TRIGGER", "STARTED", "TIME");
  for (const auto& run : *runs) {
    std::string status = styled(fmt::format("{:<10}", to_text(run.status)), status_style(run.status), colour);
    // A pull request's run says which one: "pr #7" fits the column, "pull_request" does not.
    std::string trigger = run.pull_request.number > 0 ? fmt::format("pr #{}", run.pull_request.number) : run.trigger;
    std::cout << fmt::format("{:>6}  {} {:<20} {:<12} {:<14} {:<8} {:<20} {}\n", run.id, status, run.repository,
                             run.commit.substr(0, 12), run.branch.empty() ? "-" : run.branch, trigger,
                             format_timestamp(run.started_ms).substr(0, 19), duration_of(run.started_ms, run.finished_ms));
  }
  if (runs->empty()) std::cout << "(no runs yet: `slipway run` in a repository starts one)\n";
  return kExitSuccess;
}

std::string run_text(const RunRecord& run, bool colour) {
  std::string source = run.source.empty() ? "" : fmt::format("  ({})", run.source);
  std::string text = fmt::format("Run #{}  {}\n  repository {}{}\n  commit     {}{}\n  trigger    {}\n  time       {}\n",
                                 run.id, styled(to_text(run.status), status_style(run.status), colour), run.repository,
                                 source, run.commit, run.branch.empty() ? "" : " on " + run.branch, run.trigger,
                                 duration_of(run.started_ms, run.finished_ms));
  const PullRequestInfo& pull = run.pull_request;
  if (pull.number > 0) {
    text += fmt::format("  pull req.  #{} {} by {} ({} → {}{}){}\n", pull.number, pull.title, pull.author, pull.source,
                        pull.target, pull.fork ? ", from fork " + pull.source_repository : "",
                        pull.url.empty() ? "" : "  " + pull.url);
  }
  if (!run.reason.empty()) text += fmt::format("  reason     {}\n", run.reason);
  return text;
}

std::string job_text(const JobDetail& detail, nlohmann::json& job_json, bool colour) {
  const JobRecord& job = detail.job;
  std::string text = fmt::format("\nJob {}  {}\n", job.name, styled(to_text(job.status), status_style(job.status), colour));
  for (const auto& step : detail.steps) {
    job_json["steps"].push_back({{"name", step.name}, {"kind", step.kind}, {"status", step.status},
                                 {"exit_code", step.exit_code}, {"reason", step.reason},
                                 {"started_ms", step.started_ms}, {"finished_ms", step.finished_ms}});
    text += fmt::format("  {:<20} {:<8} {} {:>8}  {}\n", step.name, step.kind,
                        styled(fmt::format("{:<9}", to_text(step.status)), status_style(step.status), colour),
                        duration_of(step.started_ms, step.finished_ms), step.reason);
  }
  return text;
}

// Every published artifact, grouped by environment in the order they were published.
std::string artifacts_text(const std::vector<ArtifactRecord>& artifacts, nlohmann::json& answer) {
  answer["artifacts"] = nlohmann::json::array();
  if (artifacts.empty()) return "";
  std::string text = "\nPublished\n";
  std::string environment;
  for (const auto& artifact : artifacts) {
    answer["artifacts"].push_back({{"environment", artifact.environment}, {"kind", artifact.kind},
                                   {"name", artifact.name}, {"reference", artifact.reference},
                                   {"detail", artifact.detail}});
    if (artifact.environment != environment) text += fmt::format("  {}\n", environment = artifact.environment);
    text += fmt::format("    {:<9} {}\n              {}{}\n", artifact.kind, artifact.name, artifact.reference,
                        artifact.detail.empty() ? "" : "  (" + artifact.detail + ")");
  }
  return text;
}

int show_run(const RunsOptions& options, const GlobalOptions& global) {
  auto opened = open_run(options, global);
  if (!opened) return fail(opened.error().message);
  const RunDetail& detail = opened->detail;
  const RunRecord& run = detail.run;
  bool colour = stream_is_terminal(stdout);
  nlohmann::json answer = local_run_json(run);
  answer["jobs"] = nlohmann::json::array();
  std::string text = run_text(run, colour);
  for (const auto& job : detail.jobs) {
    nlohmann::json job_json = {{"name", job.job.name}, {"status", job.job.status}, {"reason", job.job.reason},
                               {"steps", nlohmann::json::array()}};
    text += job_text(job, job_json, colour);
    answer["jobs"].push_back(job_json);
  }
  answer["suites"] = nlohmann::json::array();
  if (!detail.suites.empty()) text += fmt::format("\n  {:<20} {:>7} {:>7} {:>7} {:>7}\n", "SUITE", "PASSED", "FAILED", "ERRORS", "SKIPPED");
  for (const auto& suite : detail.suites) {
    answer["suites"].push_back(suite_json(suite));
    text += fmt::format("  {:<20} {:>7} {:>7} {:>7} {:>7}\n", suite.suite, suite.passed, suite.failed, suite.errored,
                        suite.skipped);
    if (!suite.problems.empty()) text += "    " + suite.problems + "\n";
  }
  text += artifacts_text(detail.artifacts, answer);
  if (!run.report_dir.empty()) text += fmt::format("\nReport: {}/report.html\n", run.report_dir);
  std::cout << (options.json ? answer.dump(2) : text) << (options.json ? "\n" : "");
  return kExitSuccess;
}

int show_logs(const RunsOptions& options, const GlobalOptions& global) {
  auto opened = open_run(options, global);
  if (!opened) return fail(opened.error().message);
  RunsSource& source = *opened->source;
  const RunDetail& detail = opened->detail;
  bool colour = stream_is_terminal(stdout);
  bool found = options.step.empty();
  for (const auto& job : detail.jobs) {
    for (const auto& step : job.steps) {
      if (!options.step.empty() && step.name != options.step) continue;
      found = true;
      // Following waits for steps that have not started yet; a plain read skips them.
      if (!options.follow && !source.has_log(step)) continue;
      if (options.step.empty()) std::cout << styled(fmt::format("==> {} / {}", job.job.name, step.name), Style::bold, colour) << "\n";
      auto read = source.read_log(step, options.follow, [&](const LogLine& line) {
        if (options.timestamps) std::cout << format_timestamp(line.timestamp_ms) << " ";
        std::cout << line.text << "\n";
        std::cout.flush();
        return static_cast<bool>(std::cout);
      });
      if (!read) return fail(read.error().message);
    }
  }
  if (!found) return fail(fmt::format("run #{} has no step named '{}' (see `slipway runs show {}`)", detail.run.id,
                                      options.step, detail.run.id));
  return kExitSuccess;
}

}  // namespace

void add_runs_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* runs = app.add_subcommand("runs", "The run history (a server's, or this machine's): list, show, logs, prune");
  runs->require_subcommand(1);
  runs->fallthrough();  // `slipway runs list --server URL` as well as `slipway runs --server URL list`
  runs->add_option("--server", options->server,
                   "Read from this server's API (default: $SLIPWAY_SERVER when set and no --data-dir is given)");

  CLI::App* list = runs->add_subcommand("list", "List runs, newest first");
  list->add_option("--repository", options->filter.repository, "Only this repository's runs");
  list->add_option_function<std::string>(
          "--status", [options](const std::string& text) { options->filter.status = run_status_from_text(text); },
          "Only runs with this status (" + run_status_names() + ")")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return run_status_from_text(text) ? "" : "unknown status '" + text + "': one of " + run_status_names();
          },
          "STATUS"));
  list->add_option("--limit", options->filter.limit, "How many runs to show")->capture_default_str()->check(CLI::Range(1, 1000));
  list->add_option("--before", options->filter.before_id, "Only runs older than this run id (paging)");
  list->add_option("--pull-request", options->filter.pull_request, "Only the runs of this pull (merge) request")
      ->check(CLI::PositiveNumber);
  list->add_flag("--json", options->json, "Print JSON");
  list->callback([options, &global, &exit_code] { exit_code = list_runs(*options, global); });

  CLI::App* show = runs->add_subcommand("show", "Show a run: its jobs, steps and test results");
  show->add_option("run", options->run_id, "The run id")->required();
  show->add_flag("--json", options->json, "Print JSON");
  show->callback([options, &global, &exit_code] { exit_code = show_run(*options, global); });

  CLI::App* logs = runs->add_subcommand("logs", "Print a run's logs, step by step");
  logs->add_option("run", options->run_id, "The run id")->required();
  logs->add_option("--step", options->step, "Only this step");
  logs->add_flag("--timestamps", options->timestamps, "Prefix each line with its time");
  logs->add_flag("--follow,-f", options->follow, "Keep printing new lines until the steps finish (needs a server)");
  logs->callback([options, &global, &exit_code] { exit_code = show_logs(*options, global); });

  add_runs_prune_command(*runs, global, exit_code);
}

}  // namespace slipway
