// `slipway runs prune [--dry-run] [--json]`: retention on demand (ci/run_retention.h) against
// this machine's data directory — the server's, with `--data-dir` — exactly what `slipway serve`
// does hourly. The policy is the server configuration's (`--config`), else the defaults (90d,
// keep_last 200); --max-age and --keep-last override the server-wide section.
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "ci/run_retention.h"
#include "cli/commands.h"
#include "spec/server_config.h"

namespace slipway {

namespace {

struct PruneCommandOptions {
  std::string config_file;
  std::string max_age;
  int keep_last = -1;   // -1: the configuration's
  bool dry_run = false;
  bool json = false;
};

int fail(const std::string& message) { return command_failed("runs prune", message); }

Result<ServerConfig> retention_config(const PruneCommandOptions& options) {
  ServerConfig config;
  if (!options.config_file.empty()) {
    auto text = read_file(options.config_file);
    if (!text) return text.error();
    auto parsed = parse_server_config(*text, options.config_file);
    if (!parsed.ok()) return make_error(parsed.diagnostics.front().to_string());
    config = std::move(*parsed.config);
  }
  if (!options.max_age.empty()) {
    auto age = parse_duration(options.max_age);
    if (!age) return make_error("--max-age: " + age.error().message);
    config.retention.max_age = *age;
  }
  if (options.keep_last >= 0) config.retention.keep_last = options.keep_last;
  return config;
}

nlohmann::json report_json(const PruneReport& report, bool dry_run) {
  nlohmann::json runs = nlohmann::json::array(), leftovers = nlohmann::json::array();
  for (const PrunedRun& pruned : report.runs) {
    const RunRecord& run = pruned.run;
    runs.push_back({{"id", run.id}, {"repository", run.repository}, {"commit", run.commit}, {"branch", run.branch},
                    {"status", run.status}, {"created_ms", run.created_ms}, {"finished_ms", run.finished_ms},
                    {"bytes", pruned.bytes}});
  }
  for (const auto& folder : report.leftovers) leftovers.push_back(folder.string());
  return {{"dry_run", dry_run}, {"runs", runs}, {"leftovers", leftovers}, {"bytes", report.bytes},
          {"problems", report.problems}};
}

void print_report(const PruneReport& report, bool dry_run) {
  const char* verb = dry_run ? "would remove" : "removed";
  for (const PrunedRun& pruned : report.runs) {
    const RunRecord& run = pruned.run;
    std::cout << fmt::format("{} run #{}  {}  {}  {}  finished {}  ({})\n", verb, run.id, run.repository,
                             run.commit.substr(0, 12), to_text(run.status),
                             format_timestamp(run.finished_ms ? run.finished_ms : run.created_ms).substr(0, 19),
                             format_byte_size(pruned.bytes));
  }
  for (const auto& folder : report.leftovers) std::cout << fmt::format("{} leftover folder {}\n", verb, folder.string());
  for (const auto& problem : report.problems) std::cerr << "slipway runs prune: " << problem << "\n";
  std::cout << fmt::format("{}: {} runs, {} leftover folders, {}{}\n", dry_run ? "Would remove" : "Removed",
                           report.runs.size(), report.leftovers.size(), format_byte_size(report.bytes),
                           dry_run ? " (dry run: nothing was removed)" : "");
}

int prune(const PruneCommandOptions& options, const GlobalOptions& global) {
  auto config = retention_config(options);
  if (!config) return fail(config.error().message);
  DataDirectory data{global.resolved_data_dir()};
  if (!std::filesystem::exists(data.database())) {
    return fail(fmt::format("no Slipway data in {} (pass the server's with --data-dir)", data.root.string()));
  }
  auto store = Store::open(data.database());
  if (!store) return fail(store.error().message);
  auto report = prune_runs(**store, data, *config, PruneOptions{options.dry_run, 0});
  if (!report) return fail(report.error().message);
  if (options.json) std::cout << report_json(*report, options.dry_run).dump(2) << "\n";
  else print_report(*report, options.dry_run);
  return report->problems.empty() ? kExitSuccess : kExitFailed;
}

}  // namespace

void add_runs_prune_command(CLI::App& runs, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<PruneCommandOptions>();
  CLI::App* command = runs.add_subcommand(
      "prune", "Remove finished runs beyond the retention policy (records, logs, reports, workspaces), here");
  command->add_option("--config", options->config_file, "The server configuration whose retention applies");
  command->add_option("--max-age", options->max_age, "Override the server-wide max_age (e.g. 30d)");
  command->add_option("--keep-last", options->keep_last, "Override the server-wide keep_last")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--dry-run", options->dry_run, "Only print what would be removed");
  command->add_flag("--json", options->json, "Print JSON");
  command->footer("Works on this machine's data directory (--data-dir; a server's is ./.slipway by default), as\n"
                  "the server itself does every hour. Queued and running runs, and the newest keep_last runs of\n"
                  "each repository, are never removed.");
  command->callback([options, &global, &exit_code] { exit_code = prune(*options, global); });
}

}  // namespace slipway
