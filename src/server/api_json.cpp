#include "server/api_json.h"

#include <charconv>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

nlohmann::json run_json(const RunRecord& run) {
  nlohmann::json environments = nlohmann::json::array();
  for (const auto& name : split(run.environments, ',')) {
    if (!name.empty()) environments.push_back(name);
  }
  nlohmann::json json = {{"id", run.id},           {"repository", run.repository}, {"commit", run.commit},
                         {"branch", run.branch},   {"trigger", run.trigger},       {"status", run.status},
                         {"reason", run.reason},   {"environments", environments}, {"created_ms", run.created_ms},
                         {"started_ms", run.started_ms}, {"finished_ms", run.finished_ms}};
  const PullRequestInfo& pull = run.pull_request;
  if (pull.number > 0) {
    // Text from the forge (a title, a login) is anyone's: it is sanitized like log text.
    json["pull_request"] = {{"number", pull.number},
                            {"title", sanitize_utf8(pull.title)},
                            {"author", sanitize_utf8(pull.author)},
                            {"source", sanitize_utf8(pull.source)},
                            {"source_repository", sanitize_utf8(pull.source_repository)},
                            {"target", sanitize_utf8(pull.target)},
                            {"fork", pull.fork},
                            {"url", sanitize_utf8(pull.url)}};
  }
  return json;
}

nlohmann::json job_json(const JobRecord& job) {
  return {{"id", job.id},         {"name", job.name},     {"environment", job.environment},
          {"status", job.status}, {"reason", job.reason}, {"started_ms", job.started_ms},
          {"finished_ms", job.finished_ms}};
}

nlohmann::json step_json(const StepRecord& step) {
  return {{"id", step.id},          {"position", step.position},   {"name", step.name},
          {"kind", step.kind},      {"command", step.command},     {"status", step.status},
          {"exit_code", step.exit_code}, {"reason", step.reason}, {"started_ms", step.started_ms},
          {"finished_ms", step.finished_ms}};
}

nlohmann::json suite_json(const SuiteResultRecord& suite) {
  return {{"suite", suite.suite},     {"passed", suite.passed},   {"failed", suite.failed},
          {"errored", suite.errored}, {"skipped", suite.skipped}, {"duration_ms", suite.duration_ms},
          {"problems", suite.problems}};
}

nlohmann::json artifact_json(const ArtifactRecord& artifact) {
  return {{"environment", artifact.environment}, {"kind", artifact.kind},         {"name", artifact.name},
          {"reference", artifact.reference},     {"detail", artifact.detail},     {"job_id", artifact.job_id},
          {"created_ms", artifact.created_ms}};
}

std::string query_value(const HttpRequest& request, const std::string& key) {
  auto found = request.query.find(key);
  return found == request.query.end() ? std::string() : found->second;
}

Result<PageRequest> page_request(const HttpRequest& request, int64_t most) {
  auto limit = integer_parameter(request.query, "limit", 50, 1, most);
  if (!limit) return limit.error();
  auto before = integer_parameter(request.query, "before", 0, 1, INT64_MAX);
  if (!before) return before.error();
  return PageRequest{static_cast<int>(*limit), *before};
}

Result<int64_t> integer_parameter(const std::map<std::string, std::string>& values, const std::string& name,
                                  int64_t fallback, int64_t minimum, int64_t maximum) {
  auto found = values.find(name);
  if (found == values.end()) return fallback;
  const std::string& text = found->second;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < minimum || value > maximum) {
    return make_error(fmt::format("'{}' must be a whole number from {} to {}, not '{}'", name, minimum, maximum, text));
  }
  return value;
}

HttpResponse bad_request(const Error& error) { return HttpResponse::error(400, error.message); }

HttpResponse server_error(const Error& error) { return HttpResponse::from_error(error); }

std::variant<RunRecord, HttpResponse> run_from_path(Store& store, const HttpRequest& request) {
  return record_from_path<RunRecord>(
      store, request, [](Store& runs, int64_t id) { return runs.find_run(id); }, "run", "GET /api/v1/runs");
}

}  // namespace slipway
