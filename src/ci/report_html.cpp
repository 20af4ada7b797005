// The run report as one HTML page, saved with the run and opened straight from disk or the UI.
// Self-contained: inline CSS, no scripts, nothing fetched (a Content-Security-Policy says so
// too, in case a test's output ever slips through). Every piece of text is escaped.
#include <string>

#include <fmt/core.h>

#include "base/strings.h"
#include "ci/markdown_html.h"
#include "ci/run_report.h"

namespace slipway {

namespace {

constexpr size_t kMaxFailuresPerSuite = 200;  // the rest is in report.json
constexpr size_t kShortCommitLength = 12;

constexpr std::string_view kStyle = R"css(
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1.5rem;
       color: #1f2328; background: #fff; }
header { border-left: 6px solid #888; padding: .25rem 1rem; margin-bottom: 1rem; }
header.passed { border-color: #1a7f37; } header.failed { border-color: #cf222e; }
h1 { margin: 0; font-size: 1.5rem; } h2 { margin-top: 2rem; } h3 { font-size: 1rem; margin-bottom: .25rem; }
.status.passed, .count.passed { color: #1a7f37; } .status.failed, .count.failed { color: #cf222e; }
.count.skipped { color: #9a6700; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
ul.problems { margin: 0; padding-left: 1.1rem; color: #9a6700; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-word; border-radius: 4px; margin: .25rem 0; }
pre.message { background: #ffebe9; }
article.failure { border-top: 1px solid #d0d7de; padding-top: .5rem; }
summary { cursor: pointer; color: #57606a; }
.summary-markdown { border: 1px solid #d0d7de; border-radius: 4px; padding: 0 1rem; }
)css";

std::string escape(std::string_view text) { return html_escape(sanitize_utf8(text)); }

std::string_view status_word(bool passed) { return passed ? "passed" : "failed"; }

std::string suite_result(const SuiteReport& suite) {
  if (suite.timed_out) return "timed out";
  return std::string(status_word(suite.passed));
}

// A count cell, coloured only when it says something (a failure, a skip).
std::string count_cell(const std::optional<TestReport>& tests, int count, std::string_view kind) {
  if (!tests) return "<td class=\"number\">–</td>";
  std::string_view css = count > 0 ? kind : "";
  return fmt::format("<td class=\"number count {}\">{}</td>", css, count);
}

std::string page_header(const RunReport& report) {
  std::string_view status = status_word(report.passed());
  std::string commit = report.commit.substr(0, kShortCommitLength);
  return fmt::format(
      "<header class=\"{0}\"><h1>{1}</h1><p>commit <code title=\"{2}\">{3}</code> · run {4} · "
      "<strong class=\"status {0}\">{0}</strong></p></header>\n",
      status, escape(report.repository), escape(report.commit), escape(commit), report.run_id);
}

std::string count_span(int count, std::string_view label, std::string_view kind) {
  return fmt::format("<span class=\"count {}\">{} {}</span>", count > 0 ? kind : "", count, label);
}

std::string totals_line(const RunReport& report) {
  RunTotals totals = run_totals(report);
  return fmt::format("<p class=\"totals\"><strong>{} test{}</strong>: {}, {}, {}, {}</p>\n",
                     totals.total(), totals.total() == 1 ? "" : "s",
                     count_span(totals.passed, "passed", "passed"),
                     count_span(totals.failed, "failed", "failed"),
                     count_span(totals.errored, "errors", "failed"),
                     count_span(totals.skipped, "skipped", "skipped"));
}

std::string problems_list(const std::vector<std::string>& problems) {
  if (problems.empty()) return {};
  std::string html = "<ul class=\"problems\">";
  for (const std::string& problem : problems) html += "<li>" + escape(problem) + "</li>";
  return html + "</ul>";
}

// Suites that passed cleanly get no section of their own: the table says it all.
bool has_section(const SuiteReport& suite) {
  bool has_failures = suite.tests && suite.tests->failed + suite.tests->errored > 0;
  return !suite.passed || has_failures || !suite.problems.empty();
}

std::string suite_name_cell(const SuiteReport& suite) {
  if (!has_section(suite)) return "<td>" + escape(suite.suite) + "</td>";
  return fmt::format("<td><a href=\"#suite-{0}\">{0}</a></td>", escape(suite.suite));
}

std::string suites_table(const RunReport& report) {
  std::string html =
      "<table class=\"suites\"><thead><tr><th>Suite</th><th class=\"number\">Passed</th>"
      "<th class=\"number\">Failed</th><th class=\"number\">Errors</th>"
      "<th class=\"number\">Skipped</th><th class=\"number\">Time</th><th>Result</th>"
      "<th>Problems</th></tr></thead>\n<tbody>\n";
  for (const SuiteReport& suite : report.suites) {
    const auto& tests = suite.tests;
    html += fmt::format(
        "<tr>{0}{1}{2}{3}{4}<td class=\"number\">{5}</td>"
        "<td class=\"status {6}\">{7}</td><td>{8}</td></tr>\n",
        suite_name_cell(suite), count_cell(tests, tests ? tests->passed : 0, "passed"),
        count_cell(tests, tests ? tests->failed : 0, "failed"),
        count_cell(tests, tests ? tests->errored : 0, "failed"),
        count_cell(tests, tests ? tests->skipped : 0, "skipped"), escape(format_duration(suite.duration)),
        status_word(suite.passed), escape(suite_result(suite)), problems_list(suite.problems));
  }
  return html + "</tbody></table>\n";
}

std::string text_block(std::string_view label, std::string_view text, bool open) {
  if (text.empty()) return {};
  return fmt::format("<details{}><summary>{}</summary><pre>{}</pre></details>\n",
                     open ? " open" : "", label, escape(text));
}

std::string failure_article(const TestCaseResult& test) {
  std::string html = fmt::format("<article class=\"failure\"><h3>{}: {}</h3>\n",
                                 escape(test_outcome_name(test.outcome)),
                                 escape(display_test_name(test)));
  if (!test.message.empty()) html += "<pre class=\"message\">" + escape(test.message) + "</pre>\n";
  if (!test.type.empty()) html += "<p>type <code>" + escape(test.type) + "</code></p>\n";
  html += text_block("details", test.details, true);
  html += text_block("standard output", test.system_out, false);
  html += text_block("standard error", test.system_err, false);
  return html + "</article>\n";
}

std::string failures(const TestReport& tests) {
  std::string html;
  size_t shown = 0, total = 0;
  for (const TestCaseResult& test : tests.cases) {
    if (test.outcome != TestOutcome::failed && test.outcome != TestOutcome::errored) continue;
    if (++total <= kMaxFailuresPerSuite) html += failure_article(test), ++shown;
  }
  if (total > shown) {
    html += fmt::format("<p>… and {} more failures, listed in report.json.</p>\n", total - shown);
  }
  return html;
}

std::string suite_section(const SuiteReport& suite) {
  if (!has_section(suite)) return {};
  std::string html = fmt::format(
      "<section class=\"suite\" id=\"suite-{0}\"><h2>{0} <span class=\"status {1}\">{2}</span></h2>\n",
      escape(suite.suite), status_word(suite.passed), escape(suite_result(suite)));
  if (!suite.passed && suite.exit_code >= 0 && !suite.timed_out) {
    html += fmt::format("<p>exit code {}</p>\n", suite.exit_code);
  }
  html += problems_list(suite.problems);
  if (suite.tests) html += failures(*suite.tests);
  if (!suite.passed && !suite.output_tail.empty()) {
    html += "<h3>Last lines of the log</h3>\n<pre class=\"log\">" +
            escape(join(suite.output_tail, "\n")) + "</pre>\n";
  }
  return html + "</section>\n";
}

std::string summary_section(const RunReport& report) {
  if (trim(report.summary_markdown).empty()) return {};
  return "<section class=\"summary\"><h2>Summary</h2>\n<div class=\"summary-markdown\">\n" +
         render_markdown_safely(report.summary_markdown) + "</div></section>\n";
}

}  // namespace

std::string render_report_html(const RunReport& report) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{} · run {} · {}</title>\n<style>{}</style></head>\n<body>\n",
      escape(report.repository), report.run_id, status_word(report.passed()), kStyle);
  html += page_header(report);
  html += totals_line(report);
  html += suites_table(report);
  for (const SuiteReport& suite : report.suites) html += suite_section(suite);
  html += summary_section(report);
  return html + "</body></html>\n";
}

}  // namespace slipway
