#include "ci/suite_report.h"

#include <sys/stat.h>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "ci/junit_report.h"
#include "ci/report_paths.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr uintmax_t kMaxReportBytes = 64u * 1024 * 1024;
constexpr uintmax_t kMaxSummaryBytes = 1024 * 1024;

void mask_test_case(TestCaseResult& test_case, const SecretMasker& masker) {
  for (std::string* text : {&test_case.suite, &test_case.classname, &test_case.name, &test_case.message,
                            &test_case.type, &test_case.details, &test_case.system_out,
                            &test_case.system_err}) {
    *text = masker.mask(*text);
  }
}

// Reads and merges every report file the pattern names; problems go to `report.problems`.
std::optional<TestReport> read_reports(const std::string& pattern, const fs::path& workspace,
                                       std::vector<std::string>& problems) {
  auto paths = resolve_report_paths(workspace, pattern);
  if (!paths) {
    problems.push_back(paths.error().message);
    return std::nullopt;
  }
  if (paths->empty()) {
    problems.push_back(fmt::format("report file '{}' is missing: the suite wrote no JUnit report there", pattern));
    return std::nullopt;
  }
  std::optional<TestReport> merged;
  for (const auto& path : *paths) {
    std::string relative = fs::relative(path, workspace).string();
    std::error_code error;
    if (fs::file_size(path, error) > kMaxReportBytes) {
      problems.push_back(fmt::format("report file '{}' is larger than 64 MiB and was not read", relative));
      continue;
    }
    auto xml = read_file(path);
    if (!xml) {
      problems.push_back(xml.error().message);
      continue;
    }
    auto parsed = parse_junit(*xml, relative);
    if (!parsed) {
      problems.push_back(parsed.error().message);
      continue;
    }
    if (!merged) merged = std::move(*parsed);
    else merged->merge(*parsed);
  }
  return merged;
}

}  // namespace

SuiteReport collect_suite_report(const PlannedStep& suite, const StepResult& result, const fs::path& workspace,
                                 const std::deque<std::string>& log_tail, const SecretMasker& masker) {
  SuiteReport report;
  report.suite = suite.name;
  report.exit_code = result.outcome.exit_code;
  report.timed_out = result.outcome.timed_out;
  report.duration = Milliseconds(result.finished_ms - result.started_ms);
  report.output_tail.assign(log_tail.begin(), log_tail.end());
  if (result.status == RunStatus::skipped || result.status == RunStatus::cancelled) report.problems.push_back(result.reason);
  if (!suite.junit.empty() && result.status != RunStatus::skipped) {
    report.tests = read_reports(suite.junit, workspace, report.problems);
    if (report.tests) {
      for (auto& test_case : report.tests->cases) mask_test_case(test_case, masker);
    }
  }
  for (auto& problem : report.problems) problem = masker.mask(problem);
  bool tests_green = !report.tests || (report.tests->failed == 0 && report.tests->errored == 0);
  report.passed = result.status == RunStatus::passed && report.problems.empty() && tests_green;
  return report;
}

std::string read_step_summary(const fs::path& summary_file, const fs::path& workspace, const SecretMasker& masker) {
  struct stat info;
  // lstat, not stat: a step could leave a symlink to a host file the server may read but the
  // step may not; such a "summary" is ignored rather than followed.
  if (::lstat(summary_file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return {};
  if (!path_is_within(workspace, summary_file)) return {};
  auto content = read_file(summary_file);
  if (!content) return {};
  if (content->size() > kMaxSummaryBytes) {
    content->resize(kMaxSummaryBytes);
    content->append("\n\n… (summary truncated at 1 MiB)\n");
  }
  return masker.mask(sanitize_utf8(*content));
}

}  // namespace slipway
