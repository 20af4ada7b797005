// RunReport as JSON: the form saved with the run (`report.json`) and served by the API. Every
// field is written, so reading it back gives the same report. Reading treats the file as
// untrusted: a wrong type or a missing field is an Error naming where it is, not an exception.
#include "ci/run_report.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

using nlohmann::json;

namespace {

constexpr int kSchemaVersion = 1;

// Strings from test output may carry any bytes; JSON must be UTF-8 or dump() throws.
std::string clean(std::string_view text) { return sanitize_utf8(text); }

json strings_to_json(const std::vector<std::string>& lines) {
  json array = json::array();
  for (const std::string& line : lines) array.push_back(clean(line));
  return array;
}

json case_to_json(const TestCaseResult& test) {
  return {{"suite", clean(test.suite)},         {"classname", clean(test.classname)},
          {"name", clean(test.name)},           {"time_seconds", test.time_seconds},
          {"outcome", test_outcome_name(test.outcome)}, {"message", clean(test.message)},
          {"type", clean(test.type)},           {"details", clean(test.details)},
          {"system_out", clean(test.system_out)}, {"system_err", clean(test.system_err)}};
}

json tests_to_json(const TestReport& tests) {
  json cases = json::array();
  for (const TestCaseResult& test : tests.cases) cases.push_back(case_to_json(test));
  return {{"passed", tests.passed},   {"failed", tests.failed}, {"errored", tests.errored},
          {"skipped", tests.skipped}, {"total", tests.total()}, {"time_seconds", tests.time_seconds},
          {"cases", std::move(cases)}};
}

json totals_to_json(const RunTotals& totals) {
  return {{"passed", totals.passed},   {"failed", totals.failed}, {"errored", totals.errored},
          {"skipped", totals.skipped}, {"total", totals.total()}};
}

json suite_to_json(const SuiteReport& suite) {
  return {{"suite", clean(suite.suite)},
          {"passed", suite.passed},
          {"exit_code", suite.exit_code},
          {"timed_out", suite.timed_out},
          {"duration_ms", suite.duration.count()},
          {"tests", suite.tests ? tests_to_json(*suite.tests) : json(nullptr)},
          {"problems", strings_to_json(suite.problems)},
          {"output_tail", strings_to_json(suite.output_tail)}};
}

// Field readers: each names the path of what it found wrong ("suites[1].exit_code").
class JsonReader {
 public:
  explicit JsonReader(std::string where) : where_(std::move(where)) {}

  std::string path(std::string_view key) const { return fmt::format("{}.{}", where_, key); }

  const json* field(const json& object, std::string_view key, json::value_t kind) {
    auto it = object.find(key);
    if (it == object.end() || !has_kind(*it, kind)) {
      fail(fmt::format("report JSON: {} is missing or not {}", path(key), kind_name(kind)));
      return nullptr;
    }
    return &*it;
  }
  template <typename T>
  void read(const json& object, std::string_view key, T& out) {
    const json* value = field(object, key, kind_of<T>());
    if (!value) return;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      bool fits = value->is_number_unsigned()
                      ? value->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                      : value->get<int64_t>() >= std::numeric_limits<T>::min() &&
                            value->get<int64_t>() <= std::numeric_limits<T>::max();
      if (!fits) return fail(fmt::format("report JSON: {} is out of range", path(key)));
    }
    out = value->get<T>();
  }
  void read_lines(const json& object, std::string_view key, std::vector<std::string>& out) {
    const json* array = field(object, key, json::value_t::array);
    if (!array) return;
    for (const json& line : *array) {
      if (!line.is_string()) return fail(fmt::format("report JSON: {} must hold strings", path(key)));
      out.push_back(line.get<std::string>());
    }
  }
  void fail(std::string message) {
    if (!error_) error_ = make_error(std::move(message));
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  template <typename T>
  static json::value_t kind_of() {
    if constexpr (std::is_same_v<T, std::string>) return json::value_t::string;
    else if constexpr (std::is_same_v<T, bool>) return json::value_t::boolean;
    else if constexpr (std::is_floating_point_v<T>) return json::value_t::number_float;
    else return json::value_t::number_integer;
  }
  static bool has_kind(const json& value, json::value_t kind) {
    switch (kind) {
      case json::value_t::number_float: return value.is_number();
      case json::value_t::number_integer: return value.is_number_integer();
      default: return value.type() == kind;
    }
  }
  static std::string_view kind_name(json::value_t kind) {
    switch (kind) {
      case json::value_t::string: return "a string";
      case json::value_t::boolean: return "true or false";
      case json::value_t::number_float: return "a number";
      case json::value_t::number_integer: return "an integer";
      case json::value_t::array: return "an array";
      default: return "an object";
    }
  }

  std::string where_;
  std::optional<Error> error_;
};

std::optional<TestOutcome> outcome_from_name(std::string_view name) {
  for (TestOutcome outcome : {TestOutcome::passed, TestOutcome::failed, TestOutcome::errored,
                              TestOutcome::skipped}) {
    if (test_outcome_name(outcome) == name) return outcome;
  }
  return std::nullopt;
}

Result<TestCaseResult> case_from_json(const json& object, const std::string& where) {
  if (!object.is_object()) return make_error(fmt::format("report JSON: {} is not an object", where));
  JsonReader reader(where);
  TestCaseResult test;
  std::string outcome;
  reader.read(object, "suite", test.suite);
  reader.read(object, "classname", test.classname);
  reader.read(object, "name", test.name);
  reader.read(object, "time_seconds", test.time_seconds);
  reader.read(object, "outcome", outcome);
  reader.read(object, "message", test.message);
  reader.read(object, "type", test.type);
  reader.read(object, "details", test.details);
  reader.read(object, "system_out", test.system_out);
  reader.read(object, "system_err", test.system_err);
  if (reader.error()) return *reader.error();
  auto parsed = outcome_from_name(outcome);
  if (!parsed) {
    return make_error(fmt::format("report JSON: {} is '{}', expected passed, failed, error or "
                                  "skipped", reader.path("outcome"), clean(outcome.substr(0, 40))));
  }
  test.outcome = *parsed;
  return test;
}

Result<TestReport> tests_from_json(const json& object, const std::string& where) {
  if (!object.is_object()) return make_error(fmt::format("report JSON: {} is not an object", where));
  JsonReader reader(where);
  TestReport tests;
  reader.read(object, "passed", tests.passed);
  reader.read(object, "failed", tests.failed);
  reader.read(object, "errored", tests.errored);
  reader.read(object, "skipped", tests.skipped);
  reader.read(object, "time_seconds", tests.time_seconds);
  const json* cases = reader.field(object, "cases", json::value_t::array);
  if (reader.error()) return *reader.error();
  for (size_t i = 0; i < cases->size(); ++i) {
    auto test = case_from_json((*cases)[i], fmt::format("{}.cases[{}]", where, i));
    if (!test) return test.error();
    tests.cases.push_back(std::move(*test));
  }
  return tests;
}

Result<SuiteReport> suite_from_json(const json& object, const std::string& where) {
  if (!object.is_object()) return make_error(fmt::format("report JSON: {} is not an object", where));
  JsonReader reader(where);
  SuiteReport suite;
  int64_t duration_ms = 0;
  reader.read(object, "suite", suite.suite);
  reader.read(object, "passed", suite.passed);
  reader.read(object, "exit_code", suite.exit_code);
  reader.read(object, "timed_out", suite.timed_out);
  reader.read(object, "duration_ms", duration_ms);
  reader.read_lines(object, "problems", suite.problems);
  reader.read_lines(object, "output_tail", suite.output_tail);
  if (reader.error()) return *reader.error();
  suite.duration = Milliseconds(duration_ms);
  if (auto tests = object.find("tests"); tests != object.end() && !tests->is_null()) {
    auto parsed = tests_from_json(*tests, where + ".tests");
    if (!parsed) return parsed.error();
    suite.tests = std::move(*parsed);
  }
  return suite;
}

}  // namespace

RunTotals run_totals(const RunReport& report) {
  RunTotals totals;
  for (const SuiteReport& suite : report.suites) {
    if (!suite.tests) continue;
    totals.passed += suite.tests->passed;
    totals.failed += suite.tests->failed;
    totals.errored += suite.tests->errored;
    totals.skipped += suite.tests->skipped;
  }
  return totals;
}

std::string display_test_name(const TestCaseResult& test) {
  std::string name = test.name.empty() ? "(unnamed test)" : test.name;
  if (test.classname.empty()) return test.suite.empty() ? name : test.suite + " › " + name;
  // jest-junit writes the full title in both attributes by default: say it once.
  if (test.name.starts_with(test.classname)) return name;
  return test.classname + "." + name;
}

bool RunReport::passed() const {
  return std::all_of(suites.begin(), suites.end(), [](const SuiteReport& s) { return s.passed; });
}

json report_to_json(const RunReport& report) {
  json suites = json::array();
  for (const SuiteReport& suite : report.suites) suites.push_back(suite_to_json(suite));
  return {{"version", kSchemaVersion},
          {"run_id", report.run_id},
          {"repository", clean(report.repository)},
          {"commit", clean(report.commit)},
          {"passed", report.passed()},
          {"totals", totals_to_json(run_totals(report))},
          {"suites", std::move(suites)},
          {"summary_markdown", clean(report.summary_markdown)}};
}

Result<RunReport> report_from_json(const json& object) {
  if (!object.is_object()) return make_error("report JSON: the document is not an object");
  JsonReader reader("report");
  RunReport report;
  int version = 0;
  reader.read(object, "version", version);
  if (!reader.error() && version != kSchemaVersion) {
    return make_error(fmt::format("report JSON: version {} is not supported (expected {})", version,
                                  kSchemaVersion));
  }
  reader.read(object, "run_id", report.run_id);
  reader.read(object, "repository", report.repository);
  reader.read(object, "commit", report.commit);
  reader.read(object, "summary_markdown", report.summary_markdown);
  const json* suites = reader.field(object, "suites", json::value_t::array);
  if (reader.error()) return *reader.error();
  for (size_t i = 0; i < suites->size(); ++i) {
    auto suite = suite_from_json((*suites)[i], fmt::format("report.suites[{}]", i));
    if (!suite) return suite.error();
    report.suites.push_back(std::move(*suite));
  }
  return report;
}

}  // namespace slipway
