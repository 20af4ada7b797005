// The server RunsSource: the same history through the HTTP API (docs/api.md). The answers are
// read defensively — a field of an unexpected type reads as empty — since a CLI may meet an
// older or newer server.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/api_client.h"
#include "cli/runs_source.h"

namespace slipway {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

int64_t number(const json& object, const char* key, int64_t fallback = 0) {
  auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

const json& list(const json& object, const char* key) {
  static const json empty = json::array();
  auto found = object.find(key);
  return found != object.end() && found->is_array() ? *found : empty;
}

RunRecord run_from(const json& run) {
  RunRecord record;
  record.id = number(run, "id");
  record.repository = text(run, "repository");
  record.commit = text(run, "commit");
  record.branch = text(run, "branch");
  record.trigger = text(run, "trigger");
  record.status = text(run, "status");
  record.reason = text(run, "reason");
  record.created_ms = number(run, "created_ms");
  record.started_ms = number(run, "started_ms");
  record.finished_ms = number(run, "finished_ms");
  std::vector<std::string> environments;
  for (const auto& name : list(run, "environments")) {
    if (name.is_string()) environments.push_back(name.get<std::string>());
  }
  record.environments = join(environments, ",");
  return record;
}

JobDetail job_from(const json& job) {
  JobDetail detail;
  detail.job = {number(job, "id"), 0, text(job, "name"), text(job, "environment"), text(job, "status"),
                text(job, "reason"), number(job, "started_ms"), number(job, "finished_ms")};
  for (const auto& step : list(job, "steps")) {
    StepRecord record;
    record.id = number(step, "id");
    record.job_id = detail.job.id;
    record.position = static_cast<int>(number(step, "position"));
    record.name = text(step, "name");
    record.kind = text(step, "kind");
    record.command = text(step, "command");
    record.status = text(step, "status");
    record.exit_code = static_cast<int>(number(step, "exit_code", -1));
    record.reason = text(step, "reason");
    record.started_ms = number(step, "started_ms");
    record.finished_ms = number(step, "finished_ms");
    detail.steps.push_back(std::move(record));
  }
  return detail;
}

SuiteResultRecord suite_from(const json& suite) {
  SuiteResultRecord record;
  record.suite = text(suite, "suite");
  record.passed = static_cast<int>(number(suite, "passed"));
  record.failed = static_cast<int>(number(suite, "failed"));
  record.errored = static_cast<int>(number(suite, "errored"));
  record.skipped = static_cast<int>(number(suite, "skipped"));
  record.duration_ms = number(suite, "duration_ms");
  record.problems = text(suite, "problems");
  return record;
}

ArtifactRecord artifact_from(const json& artifact) {
  ArtifactRecord record;
  record.environment = text(artifact, "environment");
  record.kind = text(artifact, "kind");
  record.name = text(artifact, "name");
  record.reference = text(artifact, "reference");
  record.detail = text(artifact, "detail");
  record.job_id = number(artifact, "job_id");
  record.created_ms = number(artifact, "created_ms");
  return record;
}

// One log line of the API, handed to `visit` as the LogLine the local reader would give.
bool visit_line(const json& line, const std::function<bool(const LogLine&)>& visit) {
  std::string stream = text(line, "stream");
  char code = stream == "stderr" ? 'e' : stream == "system" ? 's' : 'o';
  auto continued = line.find("continued");
  if (continued != line.end() && continued->is_boolean() && continued->get<bool>()) code = static_cast<char>(code - 32);
  std::string content = text(line, "text");
  return visit(LogLine{number(line, "ts"), code, content});
}

class ServerRunsSource : public RunsSource {
 public:
  explicit ServerRunsSource(const std::string& server) : client_(server) {}

  Result<std::vector<RunRecord>> list(const RunFilter& filter) override {
    std::string path = fmt::format("/api/v1/runs?limit={}", filter.limit);
    if (!filter.repository.empty()) path += "&repository=" + url_escape(filter.repository);
    if (!filter.status.empty()) path += "&status=" + url_escape(filter.status);
    if (filter.before_id > 0) path += fmt::format("&before={}", filter.before_id);
    auto answer = client_.get(path);
    if (!answer) return answer.error();
    std::vector<RunRecord> runs;
    for (const auto& run : slipway::list(*answer, "runs")) runs.push_back(run_from(run));
    return runs;
  }

  Result<RunDetail> detail(int64_t run_id) override {
    auto answer = client_.get(fmt::format("/api/v1/runs/{}", run_id));
    if (!answer) return answer.error();
    RunDetail detail{run_from(*answer), {}, {}, {}};
    for (const auto& job : slipway::list(*answer, "jobs")) detail.jobs.push_back(job_from(job));
    for (const auto& suite : slipway::list(*answer, "suites")) detail.suites.push_back(suite_from(suite));
    for (const auto& artifact : slipway::list(*answer, "artifacts")) detail.artifacts.push_back(artifact_from(artifact));
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
      const json& lines = slipway::list(*page, "lines");
      for (const auto& line : lines) {
        if (!visit_line(line, visit)) return {};
      }
      int64_t next = number(*page, "next_offset", offset);
      if (lines.empty() || next <= offset || next >= number(*page, "size")) return {};
      offset = next;
    }
  }

  Status follow_log(const StepRecord& step, const std::function<bool(const LogLine&)>& visit) {
    Status problem;
    Status streamed = client_.follow(fmt::format("/api/v1/steps/{}/log/follow?offset=0", step.id),
                                     [&](std::string_view event, std::string_view data) {
      json payload = json::parse(data, nullptr, false);
      if (event == "line" && payload.is_object()) return visit_line(payload, visit);
      if (event == "error") problem = make_error(payload.is_object() ? text(payload, "error") : std::string(data));
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
