// RunReport: everything a run's test reports say, per suite, ready to be saved with the run as
// JSON and as one self-contained HTML page (inline CSS, no scripts or outside references), and
// printed as a table in the terminal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "ci/junit_report.h"

namespace slipway {

struct SuiteReport {
  std::string suite;                    // the suite's name in .slipway.yml
  bool passed = false;                  // exit 0, and no failed/errored case, and report readable
  int exit_code = -1;
  bool timed_out = false;
  Milliseconds duration{0};
  std::optional<TestReport> tests;      // absent when the suite has no `junit:` or it failed to parse
  std::vector<std::string> problems;    // e.g. "report file reports/unit.xml is missing"
  std::vector<std::string> output_tail; // last lines of the step's log (masked)
};

struct RunReport {
  int64_t run_id = 0;
  std::string repository;
  std::string commit;
  std::vector<SuiteReport> suites;
  std::string summary_markdown;         // what steps appended to $SLIPWAY_SUMMARY (masked)
  bool passed() const;
};

// The cases of every suite added up; suites without a readable report add nothing.
struct RunTotals {
  int passed = 0, failed = 0, errored = 0, skipped = 0;
  int total() const { return passed + failed + errored + skipped; }
};
RunTotals run_totals(const RunReport& report);

// How a test is named in reports: "tests.test_calc.test_add", or "Calculator › adds" when the
// producer wrote no class name; "(unnamed test)" when it wrote no name either.
std::string display_test_name(const TestCaseResult& test);

// Writes every field (plus derived "passed" and "totals", ignored when read back); see
// docs/reports.md for the schema. Invalid UTF-8 in any text is replaced with U+FFFD.
nlohmann::json report_to_json(const RunReport& report);
Result<RunReport> report_from_json(const nlohmann::json& json);

// One HTML page: totals, per-suite table, every failure with its message and output, and the
// Markdown summary rendered (raw HTML in the Markdown is escaped, never passed through).
std::string render_report_html(const RunReport& report);

// The terminal table: per suite passed/failed/skipped/time, then each failure with the test's
// name, its message and the first `output_lines` lines of its output. `colour` adds ANSI colours.
std::string render_report_text(const RunReport& report, bool colour, size_t output_lines = 10);

}  // namespace slipway
