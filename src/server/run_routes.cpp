// GET /api/v1/runs, GET /api/v1/runs/{id}, POST .../cancel, POST .../rerun, and the run's report
// as JSON and HTML.
#include <filesystem>

#include <fmt/core.h>

#include "base/files.h"
#include "server/api_json.h"
#include "server/api_routes.h"

namespace slipway {

namespace {

constexpr int64_t kMaxRunsPerPage = 1000;

Result<RunFilter> parse_run_filter(const HttpRequest& request) {
  RunFilter filter;
  auto page = page_request(request, kMaxRunsPerPage);
  if (!page) return page.error();
  filter.limit = page->limit;
  filter.before_id = page->before_id;
  auto pull_request = integer_parameter(request.query, "pull_request", 0, 1, INT64_MAX);
  if (!pull_request) return pull_request.error();
  filter.pull_request = *pull_request;
  filter.repository = query_value(request, "repository");
  if (auto found = request.query.find("status"); found != request.query.end()) {
    filter.status = run_status_from_text(found->second);
    if (!filter.status) {
      return make_error(ErrorKind::invalid_input,
                        fmt::format("status: unknown status '{}': one of {}", found->second, run_status_names()));
    }
  }
  return filter;
}

HttpResponse list_runs(Store& store, const HttpRequest& request) {
  auto filter = parse_run_filter(request);
  if (!filter) return bad_request(filter.error());
  auto runs = store.list_runs(*filter);
  if (!runs) return server_error(runs.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& run : *runs) list.push_back(run_json(run));
  return HttpResponse::json(200, {{"runs", list}, {"next_before", next_before(*runs, filter->limit)}});
}

HttpResponse run_detail(Store& store, const RunRecord& run) {
  nlohmann::json answer = run_json(run);
  auto jobs = store.jobs_of_run(run.id);
  if (!jobs) return server_error(jobs.error());
  answer["jobs"] = nlohmann::json::array();
  for (const auto& job : *jobs) {
    auto steps = store.steps_of_job(job.id);
    if (!steps) return server_error(steps.error());
    nlohmann::json job_answer = job_json(job);
    job_answer["steps"] = nlohmann::json::array();
    for (const auto& step : *steps) job_answer["steps"].push_back(step_json(step));
    answer["jobs"].push_back(std::move(job_answer));
  }
  auto suites = store.suite_results_of_run(run.id);
  if (!suites) return server_error(suites.error());
  answer["suites"] = nlohmann::json::array();
  for (const auto& suite : *suites) answer["suites"].push_back(suite_json(suite));
  auto artifacts = artifacts_of_run(store, run.id);
  if (!artifacts) return server_error(artifacts.error());
  answer["artifacts"] = nlohmann::json::array();
  for (const auto& artifact : *artifacts) answer["artifacts"].push_back(artifact_json(artifact));
  return HttpResponse::json(200, answer);
}

HttpResponse report_file(const RunRecord& run, const std::string& file, const std::string& content_type) {
  if (run.report_dir.empty()) {
    return HttpResponse::error(404, fmt::format("run #{} has no report yet (it is {})", run.id, to_text(run.status)));
  }
  auto content = read_file(std::filesystem::path(run.report_dir) / file);
  if (!content) return HttpResponse::error(404, fmt::format("run #{}: {}", run.id, content.error().message));
  HttpResponse response = HttpResponse::text(200, std::move(*content), content_type);
  // The page shows test output from the repository; served beside the UI, it gets no scripts.
  response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'";
  response.headers["X-Content-Type-Options"] = "nosniff";
  return response;
}

// Calls `work(Store&, RunRecord&)` for the run named by the path, or answers 400/404/500.
template <typename Work>
HttpHandler with_run(ApiContext& context, Work work) {
  return [&context, work](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) {
      auto run = run_from_path(store, request);
      if (auto* response = std::get_if<HttpResponse>(&run)) return std::move(*response);
      return work(store, std::get<RunRecord>(run));
    });
  };
}

}  // namespace

void add_run_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/runs", context.read_role(), [&context](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) { return list_runs(store, request); });
  });
  router.add("GET", "/api/v1/runs/{id}", context.read_role(),
             with_run(context, [](Store& store, const RunRecord& run) { return run_detail(store, run); }));
  router.add("POST", "/api/v1/runs/{id}/cancel", Role::deployer,
             with_run(context, [&context](Store& store, const RunRecord& run) {
               if (run.status != RunStatus::queued && run.status != RunStatus::running) {
                 return HttpResponse::error(409, fmt::format("run #{} has already finished ({})", run.id, to_text(run.status)));
               }
               if (Status cancelled = context.queue.cancel(run.id); !cancelled) {
                 return HttpResponse::error(409, cancelled.error().message);
               }
               auto now = store.find_run(run.id);
               if (!now || !*now) return HttpResponse::json(202, run_json(run));
               return HttpResponse::json(202, run_json(**now));
             }));
  router.add("POST", "/api/v1/runs/{id}/rerun", Role::deployer,
             with_run(context, [&context](Store&, const RunRecord& run) {
               auto id = context.queue.rerun(run.id);
               if (!id) return bad_request(id.error());
               return HttpResponse::json(201, {{"id", *id}});
             }));
  router.add("GET", "/api/v1/runs/{id}/report", context.read_role(),
             with_run(context, [](Store&, const RunRecord& run) {
               return report_file(run, "report.json", "application/json");
             }));
  router.add("GET", "/api/v1/runs/{id}/report.html", context.read_role(),
             with_run(context, [](Store&, const RunRecord& run) {
               return report_file(run, "report.html", "text/html; charset=utf-8");
             }));
}

}  // namespace slipway
