// The server RunsSource: the same history through the HTTP API (docs/api.md). The answers are
// read defensively — a field of an unexpected type reads as empty — since a CLI may meet an
// older or newer server.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "base/strings.h"
#include "cli/api_client.h"
#include "base/json_fields.h"
#include "cli/runs_source.h"

namespace slipway {
namespace {

using nlohmann::json;

// As the store reads one: a status a newer server sends that this CLI does not know shows as failed.
RunStatus status_from(const json& record) {
  return run_status_from_text(json_text(record, "status")).value_or(RunStatus::failed);
}

RunRecord run_from(const json& run) {
  RunRecord record;
  record.id = json_integer(run, "id");
  record.repository = json_text(run, "repository");
  record.commit = json_text(run, "commit");
  record.branch = json_text(run, "branch");
  record.trigger = json_text(run, "trigger");
  record.status = status_from(run);
  record.reason = json_text(run, "reason");
  record.created_ms = json_integer(run, "created_ms");
  record.started_ms = json_integer(run, "started_ms");
  record.finished_ms = json_integer(run, "finished_ms");
  std::vector<std::string> environments;
  for (const auto& name : json_list(run, "environments")) {
    if (name.is_string()) environments.push_back(name.get<std::string>());
  }
  record.environments = join(environments, ",");
  if (auto pull = run.find("pull_request"); pull != run.end() && pull->is_object()) {
    record.pull_request = PullRequestInfo{json_integer(*pull, "number"),  json_text(*pull, "title"),
                                          json_text(*pull, "author"),     json_text(*pull, "source"),
                                          json_text(*pull, "source_repository"), json_text(*pull, "target"),
                                          pull->value("fork", false),     json_text(*pull, "url")};
  }
  return record;
}

JobDetail job_from(const json& job) {
  JobDetail detail;
  detail.job = {json_integer(job, "id"), 0, json_text(job, "name"), json_text(job, "environment"), status_from(job),
                json_text(job, "reason"), json_integer(job, "started_ms"), json_integer(job, "finished_ms")};
  for (const auto& step : json_list(job, "steps")) {
    StepRecord record;
    record.id = json_integer(step, "id");
    record.job_id = detail.job.id;
    record.position = static_cast<int>(json_integer(step, "position"));
    record.name = json_text(step, "name");
    record.kind = json_text(step, "kind");
    record.command = json_text(step, "command");
    record.status = status_from(step);
    record.exit_code = static_cast<int>(json_integer(step, "exit_code", -1));
    record.reason = json_text(step, "reason");
    record.started_ms = json_integer(step, "started_ms");
    record.finished_ms = json_integer(step, "finished_ms");
    detail.steps.push_back(std::move(record));
  }
  return detail;
}

SuiteResultRecord suite_from(const json& suite) {
  SuiteResultRecord record;
  record.suite = json_text(suite, "suite");
  record.passed = static_cast<int>(json_integer(suite, "passed"));
  record.failed = static_cast<int>(json_integer(suite, "failed"));
  record.errored = static_cast<int>(json_integer(suite, "errored"));
  record.skipped = static_cast<int>(json_integer(suite, "skipped"));
  record.duration_ms = json_integer(suite, "duration_ms");
  record.problems = json_text(suite, "problems");
  return record;
}

ArtifactRecord artifact_from(const json& artifact) {
  ArtifactRecord record;
  record.environment = json_text(artifact, "environment");
  record.kind = json_text(artifact, "kind");
  record.name = json_text(artifact, "name");
  record.reference = json_text(artifact, "reference");
  record.detail = json_text(artifact, "detail");
  record.job_id = json_integer(artifact, "job_id");
  record.created_ms = json_integer(artifact, "created_ms");
  return record;
}

// One log line of the API, handed to `visit` as the LogLine the local reader would give.
bool visit_line(const json& line, const std::function<bool(const LogLine&)>& visit) {
  std::string stream = json_text(line, "stream");
  char code = stream == "stderr" ? 'e' : stream == "system" ? 's' : 'o';
  auto continued = line.find("continued");
  if (continued != line.end() && continued->is_boolean() && continued->get<bool>()) code = static_cast<char>(code - 32);
  std::string content = json_text(line, "text");
  return visit(LogLine{json_integer(line, "ts"), code, content});
}

class ServerRunsSource : public RunsSource {
 public:
  explicit ServerRunsSource(const std::string& server) : client_(server) {}

  Result<std::vector<RunRecord>> list(const RunFilter& filter) override {
    std::string path = fmt::format("/api/v1/runs?limit={}", filter.limit);
    if (!filter.repository.empty()) path += "&repository=" + percent_encode(filter.repository);
    if (filter.status) path += "&status=" + std::string(to_text(*filter.status));
    if (filter.before_id > 0) path += fmt::format("&before={}", filter.before_id);
    if (filter.pull_request > 0) path += fmt::format("&pull_request={}", filter.pull_request);
    auto answer = client_.get(path);
    if (!answer) return answer.error();
    std::vector<RunRecord> runs;
    for (const auto& run : json_list(*answer, "runs")) runs.push_back(run_from(run));
    return runs;
  }

  Result<RunDetail> detail(int64_t run_id) override {
    auto answer = client_.get(fmt::format("/api/v1/runs/{}", run_id));
    if (!answer) return answer.error();
    RunDetail detail{run_from(*answer), {}, {}, {}};
    for (const auto& job : json_list(*answer, "jobs")) detail.jobs.push_back(job_from(job));
    for (const auto& suite : json_list(*answer, "suites")) detail.suites.push_back(suite_from(suite));
    for (const auto& artifact : json_list(*answer, "artifacts")) detail.artifacts.push_back(artifact_from(artifact));
    return detail;
  }

  bool has_log(const StepRecord& step) const override { return step.started_ms != 0; }

  Status read_log(const StepRecord& step, bool follow, const std::function<bool(const LogLine&)>& visit) override {
    return follow ? follow_log(step, visit) : read_pages(step, visit);
  }

 private:
  Status read_pages(const StepRecord& step, const std::function<bool(const LogLine&)>& visit) {
    for (int64_t offset = 0;;) {
      auto page = client_.get(fmt::format("/api/v1/steps/{}/log?offset={}", step.id, offset));
      if (!page) return page.error();
      const json& lines = json_list(*page, "lines");
      for (const auto& line : lines) {
        if (!visit_line(line, visit)) return {};
      }
      int64_t next = json_integer(*page, "next_offset", offset);
      if (lines.empty() || next <= offset || next >= json_integer(*page, "size")) return {};
      offset = next;
    }
  }

  Status follow_log(const StepRecord& step, const std::function<bool(const LogLine&)>& visit) {
    Status problem;
    Status streamed = client_.follow(fmt::format("/api/v1/steps/{}/log/follow?offset=0", step.id),
                                     [&](std::string_view event, std::string_view data) {
      json payload = json::parse(data, nullptr, false);
      if (event == "line" && payload.is_object()) return visit_line(payload, visit);
      if (event == "error") problem = make_error(payload.is_object() ? json_text(payload, "error") : std::string(data));
      return event != "end" && event != "error";
    });
    return streamed ? problem : streamed;
  }

  ApiClient client_;
};

}  // namespace

std::unique_ptr<RunsSource> server_runs_source(const std::string& server) {
  return std::make_unique<ServerRunsSource>(server);
}

}  // namespace slipway
