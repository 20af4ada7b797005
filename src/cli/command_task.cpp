// `slipway task list|show|revisions|runs|logs|run`: the data tasks of a running server
// ($SLIPWAY_SERVER, token $SLIPWAY_TOKEN) through its API (docs/api.md, "Tasks"). Every answer is
// read with server/task_json.h, so the CLI and the API share field names.
#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "base/json_fields.h"
#include "cli/task_text.h"
#include "cli/terminal.h"
#include "server/task_json.h"

namespace slipway {
namespace {

using nlohmann::json;

struct TaskOptions {
  std::string name;
  std::string environment;
  std::string server;
  std::vector<std::string> env;   // K=V
  int64_t run_id = 0;
  int revision = 0;
  int limit = 20;
  bool follow = false;
  bool wait = false;
  bool json = false;
};

int fail(const std::string& message, int code = kExitBadInput) { return command_failed("task", message, code); }

ApiClient client_for(const TaskOptions& options) { return ApiClient(server_from_environment(options.server)); }

std::string task_path(const TaskOptions& options, const std::string& what) {
  return fmt::format("/api/v1/tasks/{}{}?environment={}", percent_encode(options.name), what,
                     percent_encode(options.environment));
}

// Reads `key`'s list with `read` and writes it back with `write`: the --json output is then the
// API's shape exactly, whatever extra fields a newer server sends.
template <typename Record>
std::vector<Record> records_of(const json& answer, const char* key, Record (*read)(const json&)) {
  std::vector<Record> records;
  for (const auto& entry : json_list(answer, key)) records.push_back(read(entry));
  return records;
}

template <typename Record>
json list_json(const std::vector<Record>& records, json (*write)(const Record&)) {
  json list = json::array();
  for (const auto& record : records) list.push_back(write(record));
  return list;
}

int task_list(const TaskOptions& options) {
  std::string path = "/api/v1/tasks";
  if (!options.environment.empty()) path += "?environment=" + percent_encode(options.environment);
  auto answer = client_for(options).get(path);
  if (!answer) return fail(answer.error().message);
  auto tasks = records_of(*answer, "tasks", task_revision_from_json);
  if (options.json) {
    std::cout << json{{"tasks", list_json(tasks, task_revision_json)}}.dump(2) << "\n";
  } else {
    std::cout << (tasks.empty() ? "(no tasks yet)\n" : tasks_table(tasks));
  }
  return kExitSuccess;
}

int task_show(const TaskOptions& options) {
  auto answer = client_for(options).get(task_path(options, ""));
  if (!answer) return fail(answer.error().message);
  auto found = answer->find("task");
  TaskRevisionRecord task = task_revision_from_json(found != answer->end() ? *found : json());
  auto runs = records_of(*answer, "runs", task_run_from_json);
  auto schedules = records_of(*answer, "schedules", task_schedule_from_json);
  if (options.json) {
    std::cout << json{{"task", task_revision_json(task)},
                      {"runs", list_json(runs, task_run_json)},
                      {"schedules", list_json(schedules, task_schedule_json)}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << task_text(task, runs, schedules, stream_is_terminal(stdout));
  }
  return kExitSuccess;
}

int task_revisions(const TaskOptions& options) {
  auto answer = client_for(options).get(task_path(options, "/revisions") + fmt::format("&limit={}", options.limit));
  if (!answer) return fail(answer.error().message);
  auto revisions = records_of(*answer, "revisions", task_revision_from_json);
  if (options.json) {
    std::cout << json{{"revisions", list_json(revisions, task_revision_json)}}.dump(2) << "\n";
  } else {
    std::cout << revisions_table(revisions, stream_is_terminal(stdout));
  }
  return kExitSuccess;
}

int task_runs(const TaskOptions& options) {
  auto answer = client_for(options).get(task_path(options, "/runs") + fmt::format("&limit={}", options.limit));
  if (!answer) return fail(answer.error().message);
  auto runs = records_of(*answer, "runs", task_run_from_json);
  if (options.json) {
    std::cout << json{{"runs", list_json(runs, task_run_json)}}.dump(2) << "\n";
  } else {
    std::cout << (runs.empty() ? "(no runs yet)\n" : task_runs_table(runs, stream_is_terminal(stdout)));
  }
  return kExitSuccess;
}

// Prints the run's log from the start; with `follow`, keeps polling until the run has finished
// and everything it wrote is printed. An Error when the server cannot tell.
Status print_logs(const ApiClient& client, int64_t run_id, bool follow, bool print) {
  bool colour = stream_is_terminal(stdout);
  int64_t offset = 0;
  bool answered = false;
  for (int failures = 0;;) {
    auto page = client.get(fmt::format("/api/v1/task-runs/{}/logs?offset={}", run_id, offset));
    if (!page) {
      // A first failure is an answer (no such run); later ones may be a restarting server.
      if (!answered || ++failures > kPollFailuresTolerated) return page.error();
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    answered = true;
    failures = 0;
    const auto& lines = json_list(*page, "lines");
    for (const auto& line : lines) {
      if (print) std::cout << log_line_text(json_text(line, "stream"), json_text(line, "text"), colour);
    }
    std::cout << std::flush;
    offset = json_integer(*page, "next_offset", offset);
    auto finished = page->find("finished");
    bool done = finished != page->end() && finished->is_boolean() && finished->get<bool>();
    if (done || (!follow && lines.empty())) return {};
    if (lines.empty()) std::this_thread::sleep_for(kPollInterval);
  }
}

Result<TaskRunRecord> fetch_run(const ApiClient& client, int64_t id) {
  auto answer = client.get(fmt::format("/api/v1/task-runs/{}", id));
  if (!answer) return answer.error();
  return task_run_from_json(*answer);
}

int task_logs(const TaskOptions& options) {
  ApiClient client = client_for(options);
  if (Status printed = print_logs(client, options.run_id, options.follow, true); !printed) {
    return fail(fmt::format("task run #{}: {}", options.run_id, printed.error().message));
  }
  return kExitSuccess;
}

Result<std::map<std::string, std::string>> parse_env(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> env;
  for (const auto& pair : pairs) {
    size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return make_error(fmt::format("--env '{}' is not NAME=VALUE", pair));
    }
    env[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  return env;
}

// Follows the run's log to its end, then prints how it ended. 0 only when it succeeded.
int wait_for_run(const ApiClient& client, int64_t id, bool as_json) {
  if (Status followed = print_logs(client, id, true, !as_json); !followed) {
    return fail(fmt::format("task run #{}: {}", id, followed.error().message), kExitFailed);
  }
  auto run = fetch_run(client, id);
  if (!run) return fail(fmt::format("task run #{}: {}", id, run.error().message), kExitFailed);
  if (as_json) {
    std::cout << json{{"run", task_run_json(*run)}}.dump(2) << "\n";
  } else {
    std::cout << run_outcome_line(*run, stream_is_terminal(stdout));
  }
  return run->status == TaskRunStatus::succeeded ? kExitSuccess : kExitFailed;
}

int task_run(const TaskOptions& options) {
  auto env = parse_env(options.env);
  if (!env) return fail(env.error().message);
  json body = {{"environment", options.environment}};
  if (options.revision > 0) body["revision"] = options.revision;
  if (!env->empty()) body["env"] = *env;
  ApiClient client = client_for(options);
  auto answer = client.post(fmt::format("/api/v1/tasks/{}/runs?via=cli", percent_encode(options.name)), body);
  if (!answer) return fail(fmt::format("run of {} in {}: {}", options.name, options.environment, answer.error().message));
  auto found = answer->find("run");
  TaskRunRecord run = task_run_from_json(found != answer->end() ? *found : json());
  if (options.json && !options.wait) {
    std::cout << json{{"run", task_run_json(run)}}.dump(2) << "\n";
    return kExitSuccess;
  }
  if (!options.json) {
    std::cout << fmt::format("Task run #{}: {} revision {} in {}.\n", run.id, run.task, run.revision, run.environment);
    if (!options.wait) std::cout << fmt::format("Follow it:  slipway task logs {} --follow\n", run.id);
  }
  return options.wait ? wait_for_run(client, run.id, options.json) : kExitSuccess;
}

void add_common_flags(CLI::App* command, TaskOptions& options, bool with_json = true) {
  command->add_option("--server", options.server,
                      "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  if (with_json) command->add_flag("--json", options.json, "Print JSON (the API's field names)");
}

void add_task_target(CLI::App* command, TaskOptions& options) {
  command->add_option("name", options.name, "The task's name")->required();
  command->add_option("--environment", options.environment, "The environment, e.g. production")->required();
}

}  // namespace

void add_task_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TaskOptions>();
  CLI::App* task = app.add_subcommand("task", "The server's data tasks: list, show, revisions, runs, logs, run "
                                              "($SLIPWAY_SERVER, token $SLIPWAY_TOKEN)");
  task->require_subcommand(1);

  CLI::App* list = task->add_subcommand("list", "Every task's active revision, per environment");
  list->add_option("--environment", options->environment, "Only this environment");
  add_common_flags(list, *options);
  list->callback([options, &exit_code] { exit_code = task_list(*options); });

  CLI::App* show = task->add_subcommand("show", "One task: its active revision, schedules and latest runs");
  add_task_target(show, *options);
  add_common_flags(show, *options);
  show->callback([options, &exit_code] { exit_code = task_show(*options); });

  CLI::App* revisions = task->add_subcommand("revisions", "A task's revisions, newest first, with their digests");
  add_task_target(revisions, *options);
  revisions->add_option("--limit", options->limit, "How many to show")->capture_default_str()->check(CLI::Range(1, 1000));
  add_common_flags(revisions, *options);
  revisions->callback([options, &exit_code] { exit_code = task_revisions(*options); });

  CLI::App* runs = task->add_subcommand("runs", "A task's runs, newest first");
  add_task_target(runs, *options);
  runs->add_option("--limit", options->limit, "How many to show")->capture_default_str()->check(CLI::Range(1, 1000));
  add_common_flags(runs, *options);
  runs->callback([options, &exit_code] { exit_code = task_runs(*options); });

  CLI::App* logs = task->add_subcommand("logs", "A task run's output");
  logs->add_option("run", options->run_id, "The run's id (see `slipway task runs NAME`)")->required()
      ->check(CLI::PositiveNumber);
  logs->add_flag("--follow,-f", options->follow, "Keep printing until the run has finished");
  add_common_flags(logs, *options, false);
  logs->callback([options, &exit_code] { exit_code = task_logs(*options); });

  CLI::App* run = task->add_subcommand("run", "Run a task now (a deployer token); prints the run's id");
  add_task_target(run, *options);
  run->add_option("--env", options->env, "NAME=VALUE on top of the definition's env (repeatable)");
  run->add_option("--revision", options->revision, "Run this revision instead of the active one")
      ->check(CLI::PositiveNumber);
  run->add_flag("--wait", options->wait, "Print the run's output until it ends; exit 0 only if it succeeded");
  add_common_flags(run, *options);
  run->callback([options, &exit_code] { exit_code = task_run(*options); });
}

}  // namespace slipway
