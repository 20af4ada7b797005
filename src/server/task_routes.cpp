// Data tasks (docs/api.md, "Tasks"):
//   GET  /api/v1/tasks[?environment=]                         the active revision of every task
//   GET  /api/v1/tasks/{name}[?environment=]                  active revision, latest runs, schedules
//   GET  /api/v1/tasks/{name}/revisions[?environment=&limit=] newest first
//   GET  /api/v1/tasks/{name}/runs[?environment=&limit=&before=]
//   POST /api/v1/tasks/{name}/runs[?via=cli]  {"environment", "revision"?, "env"?}   (deployer) → 202
//   GET  /api/v1/task-runs/{id}     GET /api/v1/task-runs/{id}/logs?offset=N
// Reading needs only the store; a trigger needs the server's TaskRunner.
#include <set>
#include <utility>
#include <variant>

#include <fmt/core.h>

#include "base/strings.h"
#include "server/api_json.h"
#include "server/api_routes.h"
#include "server/task_json.h"
#include "server/task_log_reader.h"
#include "spec/spec_values.h"

namespace slipway {
namespace {

using nlohmann::json;

constexpr int kDetailRuns = 20;
constexpr int64_t kMaxPerPage = 1000;
constexpr uint64_t kLogPageBytes = 1024 * 1024;

// The environment a task route means: ?environment= when given; otherwise the only environment
// the task is active in (400 when it is in several, 404 when in none).
std::variant<std::string, HttpResponse> task_environment(Store& store, const HttpRequest& request,
                                                         const std::string& name) {
  std::string environment = query_value(request, "environment");
  if (!environment.empty()) return environment;
  auto active = list_active_tasks(store, "");
  if (!active) return server_error(active.error());
  std::vector<std::string> environments;
  for (const auto& revision : *active) {
    if (revision.task == name) environments.push_back(revision.environment);
  }
  if (environments.empty()) {
    return HttpResponse::error(404, fmt::format("no task {} in any environment (GET /api/v1/tasks lists them)", name));
  }
  if (environments.size() > 1) {
    return HttpResponse::error(400, fmt::format("task {} exists in {}: say which with ?environment=", name,
                                                join(environments, ", ")));
  }
  return environments.front();
}

HttpResponse no_task(const std::string& name, const std::string& environment) {
  return HttpResponse::error(404, fmt::format("no task {} in {} (GET /api/v1/tasks?environment={} lists them)", name,
                                              environment, environment));
}

HttpResponse list_tasks_route(Store& store, const HttpRequest& request) {
  auto tasks = list_active_tasks(store, query_value(request, "environment"));
  if (!tasks) return server_error(tasks.error());
  json list = json::array();
  for (const auto& revision : *tasks) list.push_back(task_revision_json(revision));
  return HttpResponse::json(200, {{"tasks", list}});
}

HttpResponse task_detail(Store& store, const HttpRequest& request) {
  const std::string& name = request.params.at("name");
  auto chosen = task_environment(store, request, name);
  if (auto* refused = std::get_if<HttpResponse>(&chosen)) return std::move(*refused);
  const std::string& environment = std::get<std::string>(chosen);
  auto active = active_task_revision(store, environment, name);
  if (!active) return server_error(active.error());
  if (!*active) return no_task(name, environment);
  auto runs = list_task_runs(store, environment, name, kDetailRuns);
  if (!runs) return server_error(runs.error());
  auto schedules = list_task_schedules(store);
  if (!schedules) return server_error(schedules.error());
  json run_list = json::array();
  for (const auto& run : *runs) run_list.push_back(task_run_json(run));
  json schedule_list = json::array();
  for (const auto& schedule : *schedules) {
    if (schedule.environment == environment && schedule.task == name) schedule_list.push_back(task_schedule_json(schedule));
  }
  return HttpResponse::json(200, {{"task", task_revision_json(**active)}, {"runs", run_list}, {"schedules", schedule_list}});
}

HttpResponse task_revisions_route(Store& store, const HttpRequest& request) {
  const std::string& name = request.params.at("name");
  auto limit = integer_parameter(request.query, "limit", 20, 1, kMaxPerPage);
  if (!limit) return bad_request(limit.error());
  auto chosen = task_environment(store, request, name);
  if (auto* refused = std::get_if<HttpResponse>(&chosen)) return std::move(*refused);
  const std::string& environment = std::get<std::string>(chosen);
  auto revisions = list_task_revisions(store, environment, name, static_cast<int>(*limit));
  if (!revisions) return server_error(revisions.error());
  if (revisions->empty()) return no_task(name, environment);
  json list = json::array();
  for (const auto& revision : *revisions) list.push_back(task_revision_json(revision));
  return HttpResponse::json(200, {{"revisions", list}});
}

HttpResponse task_runs_route(Store& store, const HttpRequest& request) {
  const std::string& name = request.params.at("name");
  auto page = page_request(request, kMaxPerPage);
  if (!page) return bad_request(page.error());
  auto chosen = task_environment(store, request, name);
  if (auto* refused = std::get_if<HttpResponse>(&chosen)) return std::move(*refused);
  const std::string& environment = std::get<std::string>(chosen);
  // A task is known by its revisions (any status): runs of an old one are still worth listing.
  auto known = list_task_revisions(store, environment, name, 1);
  if (!known) return server_error(known.error());
  if (known->empty()) return no_task(name, environment);
  auto runs = list_task_runs(store, environment, name, page->limit, page->before_id);
  if (!runs) return server_error(runs.error());
  json list = json::array();
  for (const auto& run : *runs) list.push_back(task_run_json(run));
  return HttpResponse::json(200, {{"runs", list}, {"next_before", next_before(*runs, page->limit)}});
}

// The body, checked field by field, or the 400 that says what is wrong with it.
std::variant<TaskRunRequest, HttpResponse> parse_trigger(const std::string& name, const std::string& body) {
  const char* shape = R"(the body must be {"environment": "...", "revision": N, "env": {"NAME": "value"}} )"
                      R"((revision and env optional))";
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return HttpResponse::error(400, fmt::format("not JSON: {}", shape));
  static const std::set<std::string> known = {"environment", "revision", "env"};
  for (const auto& [key, value] : parsed.items()) {
    if (!known.contains(key)) return HttpResponse::error(400, fmt::format("unknown field '{}': {}", key, shape));
  }
  TaskRunRequest request;
  request.task = name;
  request.trigger = "api";
  auto environment = parsed.find("environment");
  if (environment == parsed.end() || (environment->is_string() && environment->get<std::string>().empty())) {
    return HttpResponse::error(400, fmt::format("'environment' is missing: {}", shape));
  }
  if (!environment->is_string()) return HttpResponse::error(400, fmt::format("'environment' must be a string: {}", shape));
  request.environment = environment->get<std::string>();
  if (auto revision = parsed.find("revision"); revision != parsed.end() && !revision->is_null()) {
    if (!revision->is_number_integer() || revision->get<int64_t>() < 1 || revision->get<int64_t>() > INT32_MAX) {
      return HttpResponse::error(400, fmt::format("'revision' must be a whole number from 1: {}", shape));
    }
    request.revision = revision->get<int>();
  }
  if (auto env = parsed.find("env"); env != parsed.end() && !env->is_null()) {
    if (!env->is_object()) return HttpResponse::error(400, fmt::format("'env' must be an object: {}", shape));
    for (const auto& [key, value] : env->items()) {
      if (!value.is_string()) {
        return HttpResponse::error(400, fmt::format("env '{}' must be a string (quote numbers): {}", key, shape));
      }
      if (!is_valid_variable_name(key)) {
        return HttpResponse::error(400, fmt::format("env '{}' is not a variable name (letters, digits, _; "
                                                    "not starting with a digit)", key));
      }
      request.env[key] = value.get<std::string>();
    }
  }
  return request;
}

// 404 when the task (or the named revision) does not exist, checked before the runner is asked
// so that its refusal (409) means the task exists but cannot run as things are (a secret not set).
std::optional<HttpResponse> check_task_exists(Store& store, const TaskRunRequest& trigger) {
  if (trigger.revision == 0) {
    auto active = active_task_revision(store, trigger.environment, trigger.task);
    if (!active) return server_error(active.error());
    if (!*active) return no_task(trigger.task, trigger.environment);
    return std::nullopt;
  }
  auto named = find_task_revision(store, trigger.environment, trigger.task, trigger.revision);
  if (!named) return server_error(named.error());
  if (!*named) {
    return HttpResponse::error(404, fmt::format("no revision {} of task {} in {} (GET /api/v1/tasks/{}/revisions?"
                                                "environment={} lists them)",
                                                trigger.revision, trigger.task, trigger.environment, trigger.task,
                                                trigger.environment));
  }
  return std::nullopt;
}

HttpResponse trigger_route(ApiContext& context, const HttpRequest& request) {
  // `slipway task run` says so with ?via=cli, so that a run's trigger tells the CLI from an
  // orchestrator calling the API.
  std::string via = query_value(request, "via");
  if (!via.empty() && via != "api" && via != "cli") {
    return HttpResponse::error(400, fmt::format("'via' must be api or cli, not '{}'", via));
  }
  auto parsed = parse_trigger(request.params.at("name"), request.body);
  if (auto* refused = std::get_if<HttpResponse>(&parsed)) return std::move(*refused);
  auto& trigger = std::get<TaskRunRequest>(parsed);
  if (via == "cli") trigger.trigger = "cli";
  // The store answers "no such task" even on a server that does not run tasks.
  auto missing = with_store(context.stores, [&](Store& store) {
    return check_task_exists(store, trigger).value_or(HttpResponse::json(200, json::object()));
  });
  if (missing.status != 200) return missing;
  if (context.tasks == nullptr) return HttpResponse::error(503, "data tasks are not enabled on this server");
  auto run = context.tasks->trigger(trigger);
  if (!run) return HttpResponse::from_error(run.error());
  return HttpResponse::json(202, {{"run", task_run_json(*run)}});
}

std::variant<TaskRunRecord, HttpResponse> task_run_from_path(Store& store, const HttpRequest& request) {
  return record_from_path<TaskRunRecord>(store, request, find_task_run, "task run", "GET /api/v1/tasks/NAME/runs");
}

HttpResponse task_run_route(Store& store, const HttpRequest& request) {
  auto run = task_run_from_path(store, request);
  if (auto* refused = std::get_if<HttpResponse>(&run)) return std::move(*refused);
  return HttpResponse::json(200, task_run_json(std::get<TaskRunRecord>(run)));
}

HttpResponse task_logs_route(Store& store, const HttpRequest& request) {
  auto offset = integer_parameter(request.query, "offset", 0, 0, INT64_MAX);
  if (!offset) return bad_request(offset.error());
  auto found = task_run_from_path(store, request);
  if (auto* refused = std::get_if<HttpResponse>(&found)) return std::move(*refused);
  const auto& run = std::get<TaskRunRecord>(found);
  // The status before the file: whatever a finished run wrote is then on disk.
  bool ended = is_finished(run.status);
  auto page = read_task_log(run.log_path, static_cast<uint64_t>(*offset), kLogPageBytes);
  if (!page) return server_error(page.error());
  json lines = json::array();
  for (const auto& line : page->lines) {
    lines.push_back({{"at_ms", line.at_ms}, {"stream", line.stream}, {"text", line.text}});
  }
  return HttpResponse::json(200, {{"lines", lines},
                                  {"next_offset", page->next_offset},
                                  {"finished", ended && page->next_offset >= page->size},
                                  {"status", run.status}});
}

}  // namespace

void add_task_routes(Router& router, ApiContext& context) {
  auto reading = [&context](HttpResponse (*route)(Store&, const HttpRequest&)) {
    return [&context, route](HttpRequest& request) {
      return with_store(context.stores, [&](Store& store) { return route(store, request); });
    };
  };
  router.add("GET", "/api/v1/tasks", context.read_role(), reading(list_tasks_route));
  router.add("GET", "/api/v1/tasks/{name}", context.read_role(), reading(task_detail));
  router.add("GET", "/api/v1/tasks/{name}/revisions", context.read_role(), reading(task_revisions_route));
  router.add("GET", "/api/v1/tasks/{name}/runs", context.read_role(), reading(task_runs_route));
  router.add("POST", "/api/v1/tasks/{name}/runs", Role::deployer,
             [&context](HttpRequest& request) { return trigger_route(context, request); });
  router.add("GET", "/api/v1/task-runs/{id}", context.read_role(), reading(task_run_route));
  router.add("GET", "/api/v1/task-runs/{id}/logs", context.read_role(), reading(task_logs_route));
}

}  // namespace slipway
