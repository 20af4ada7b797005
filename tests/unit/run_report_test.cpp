#include "ci/run_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace slipway {
namespace {

TestCaseResult make_case(std::string classname, std::string name, TestOutcome outcome,
                         std::string message = "", std::string details = "") {
  TestCaseResult test;
  test.suite = "pytest";
  test.classname = std::move(classname);
  test.name = std::move(name);
  test.outcome = outcome;
  test.time_seconds = 0.25;
  test.message = std::move(message);
  test.details = std::move(details);
  return test;
}

TestReport make_tests(std::vector<TestCaseResult> cases) {
  TestReport tests;
  for (TestCaseResult& test : cases) {
    switch (test.outcome) {
      case TestOutcome::passed: ++tests.passed; break;
      case TestOutcome::failed: ++tests.failed; break;
      case TestOutcome::errored: ++tests.errored; break;
      case TestOutcome::skipped: ++tests.skipped; break;
    }
    tests.time_seconds += test.time_seconds;
    tests.cases.push_back(std::move(test));
  }
  return tests;
}

// Two suites: `unit` failed (a failure with hostile text, an error, a skip), `lint` passed
// without a report.
RunReport sample_report() {
  RunReport report;
  report.run_id = 42;
  report.repository = "hello-app";
  report.commit = "0123456789abcdef0123456789abcdef01234567";

  SuiteReport unit;
  unit.suite = "unit";
  unit.exit_code = 1;
  unit.duration = Milliseconds(1234);
  TestCaseResult failed = make_case("tests.test_calc", "test_divide", TestOutcome::failed,
                                    "<script>alert(1)</script>", "line 1\nline 2\nline 3\nline 4");
  failed.type = "AssertionError";
  failed.system_out = "stdout line\n";
  failed.system_err = "stderr line\n";
  unit.tests = make_tests({make_case("tests.test_calc", "test_add", TestOutcome::passed), failed,
                           make_case("tests.test_db", "test_connect", TestOutcome::errored,
                                     "ConnectionRefusedError", "trace"),
                           make_case("tests.test_calc", "test_network", TestOutcome::skipped,
                                     "needs network")});
  unit.problems = {"report file reports/extra.xml is missing"};
  unit.output_tail = {"collected 4 items", "FAILED tests/test_calc.py::test_divide"};

  SuiteReport lint;
  lint.suite = "lint";
  lint.passed = true;
  lint.exit_code = 0;
  lint.duration = Milliseconds(90'000);
  lint.output_tail = {"all clean"};

  report.suites = {unit, lint};
  report.summary_markdown = "## Coverage\n\n**87%** of lines\n";
  return report;
}

TEST(RunReport, PassesOnlyWhenEverySuitePassed) {
  RunReport report = sample_report();
  EXPECT_FALSE(report.passed());
  report.suites[0].passed = true;  // the caller decides; the report does not second-guess it
  EXPECT_TRUE(report.passed());
  EXPECT_TRUE(RunReport{}.passed());
}

TEST(RunReport, AddsUpTotals) {
  RunTotals totals = run_totals(sample_report());
  EXPECT_EQ(totals.passed, 1);
  EXPECT_EQ(totals.failed, 1);
  EXPECT_EQ(totals.errored, 1);
  EXPECT_EQ(totals.skipped, 1);
  EXPECT_EQ(totals.total(), 4);
}

TEST(RunReport, NamesTests) {
  EXPECT_EQ(display_test_name(make_case("a.b", "c", TestOutcome::passed)), "a.b.c");
  EXPECT_EQ(display_test_name(make_case("Calc adds", "Calc adds", TestOutcome::passed)), "Calc adds");
  EXPECT_EQ(display_test_name(make_case("", "adds", TestOutcome::passed)), "pytest › adds");
  TestCaseResult anonymous;
  EXPECT_EQ(display_test_name(anonymous), "(unnamed test)");
}

TEST(RunReportJson, RoundTripsEveryField) {
  RunReport report = sample_report();
  nlohmann::json json = report_to_json(report);
  auto back = report_from_json(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(report_to_json(*back), json);

  EXPECT_EQ(back->run_id, 42);
  EXPECT_EQ(back->commit, report.commit);
  EXPECT_EQ(back->summary_markdown, report.summary_markdown);
  ASSERT_EQ(back->suites.size(), 2u);
  const SuiteReport& unit = back->suites[0];
  EXPECT_EQ(unit.exit_code, 1);
  EXPECT_EQ(unit.duration, Milliseconds(1234));
  EXPECT_EQ(unit.problems, report.suites[0].problems);
  EXPECT_EQ(unit.output_tail, report.suites[0].output_tail);
  ASSERT_TRUE(unit.tests.has_value());
  EXPECT_EQ(unit.tests->errored, 1);
  const TestCaseResult& failed = unit.tests->cases[1];
  EXPECT_EQ(failed.outcome, TestOutcome::failed);
  EXPECT_EQ(failed.type, "AssertionError");
  EXPECT_EQ(failed.system_err, "stderr line\n");
  EXPECT_DOUBLE_EQ(failed.time_seconds, 0.25);
  EXPECT_EQ(unit.tests->cases[2].outcome, TestOutcome::errored);
  EXPECT_FALSE(back->suites[1].tests.has_value());
  EXPECT_TRUE(back->suites[1].passed);
}

TEST(RunReportJson, WritesOutcomeNamesAndDerivedTotals) {
  nlohmann::json json = report_to_json(sample_report());
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["passed"], false);
  EXPECT_EQ(json["totals"]["total"], 4);
  EXPECT_EQ(json["suites"][0]["tests"]["cases"][2]["outcome"], "error");
  EXPECT_TRUE(json["suites"][1]["tests"].is_null());
}

TEST(RunReportJson, ReplacesInvalidUtf8SoItCanBeWritten) {
  RunReport report = sample_report();
  report.summary_markdown = "bad \xff byte";
  report.suites[0].output_tail.push_back("\xc3");
  std::string written = report_to_json(report).dump();
  auto back = report_from_json(nlohmann::json::parse(written));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->summary_markdown, "bad \xEF\xBF\xBD byte");
  ASSERT_FALSE(back->suites[0].output_tail.empty());
  EXPECT_EQ(back->suites[0].output_tail.back(), "\xEF\xBF\xBD");
}

TEST(RunReportJson, ExplainsWhatIsWrong) {
  nlohmann::json json = report_to_json(sample_report());
  auto message = [](const nlohmann::json& document) {
    auto report = report_from_json(document);
    EXPECT_FALSE(report.ok());
    return report.ok() ? std::string() : report.error().message;
  };
  EXPECT_NE(message(nlohmann::json::array()).find("not an object"), std::string::npos);

  nlohmann::json bad = json;
  bad["suites"][0]["tests"]["cases"][1]["outcome"] = "exploded";
  EXPECT_NE(message(bad).find("report.suites[0].tests.cases[1].outcome is 'exploded'"),
            std::string::npos);
  bad = json;
  bad["suites"][1]["exit_code"] = "zero";
  EXPECT_NE(message(bad).find("report.suites[1].exit_code is missing or not an integer"),
            std::string::npos);
  bad = json;
  bad["suites"][0]["exit_code"] = 1e12;
  EXPECT_NE(message(bad).find("exit_code"), std::string::npos);
  bad = json;
  bad["suites"][0]["exit_code"] = 99'999'999'999;
  EXPECT_NE(message(bad).find("out of range"), std::string::npos);
  bad = json;
  bad.erase("repository");
  EXPECT_NE(message(bad).find("report.repository"), std::string::npos);
  bad = json;
  bad["version"] = 2;
  EXPECT_NE(message(bad).find("version 2"), std::string::npos);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

TEST(RunReportHtml, IsOneSelfContainedPage) {
  std::string html = render_report_html(sample_report());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("hello-app"), std::string::npos);
  EXPECT_NE(html.find(">0123456789ab<"), std::string::npos);  // short commit
  EXPECT_NE(html.find("run 42"), std::string::npos);
  EXPECT_NE(html.find("status failed"), std::string::npos);
  EXPECT_EQ(lower(html).find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(RunReportHtml, ShowsFailuresEscaped) {
  std::string html = render_report_html(sample_report());
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("tests.test_calc.test_divide"), std::string::npos);
  EXPECT_NE(html.find("line 1\nline 2"), std::string::npos);
  EXPECT_NE(html.find("stdout line"), std::string::npos);
  EXPECT_NE(html.find("report file reports/extra.xml is missing"), std::string::npos);
  EXPECT_NE(html.find("FAILED tests/test_calc.py::test_divide"), std::string::npos);  // log tail
  EXPECT_EQ(html.find("all clean"), std::string::npos);  // no log tail for a passed suite
}

TEST(RunReportHtml, RendersTheSummaryWithoutPassingHtmlThrough) {
  RunReport report = sample_report();
  report.summary_markdown +=
      "\n<script>alert(2)</script>\n\nInline <img src=x onerror=alert(3)> and "
      "[a link](javascript:alert(4)) and ![chart](https://example.com/chart.png)\n";
  std::string html = render_report_html(report);
  EXPECT_NE(html.find("<h2>Coverage</h2>"), std::string::npos);
  EXPECT_NE(html.find("<strong>87%</strong>"), std::string::npos);
  EXPECT_EQ(lower(html).find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"https://example.com/chart.png\">chart</a>"), std::string::npos);
}

TEST(RunReportHtml, SurvivesHostileMarkdown) {
  RunReport report = sample_report();
  report.summary_markdown = std::string(100'000, '>') + " deep\n" + std::string(50'000, '[') +
                            "\xff\xfe not UTF-8\n";
  std::string html = render_report_html(report);
  EXPECT_NE(html.find("deep"), std::string::npos);
  EXPECT_NE(html.find("not UTF-8"), std::string::npos);
}

TEST(RunReportText, PrintsAnAlignedTableWithoutColour) {
  std::string text = render_report_text(sample_report(), false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("SUITE  PASSED  FAILED  SKIPPED   TIME  RESULT\n"), std::string::npos) << text;
  EXPECT_NE(text.find("unit        1       2        1  1.23s  failed\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lint        -       -        -  1m30s  passed\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Problems:\n  unit: report file reports/extra.xml is missing"), std::string::npos);
  EXPECT_NE(text.find("Failures:"), std::string::npos);
  EXPECT_NE(text.find("failed unit › tests.test_calc.test_divide\n    <script>alert(1)</script>\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("error unit › tests.test_db.test_connect"), std::string::npos);
  EXPECT_TRUE(text.ends_with("\n1 passed, 2 failed (1 error), 1 skipped\n")) << text;
}

TEST(RunReportText, ShowsOnlyTheFirstOutputLines) {
  std::string text = render_report_text(sample_report(), false, 2);
  EXPECT_NE(text.find("      line 1\n      line 2\n      … 4 more lines\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("line 3"), std::string::npos);
}

TEST(RunReportText, ColoursOnlyWhenAsked) {
  std::string text = render_report_text(sample_report(), true);
  EXPECT_NE(text.find("\x1b[31mfailed\x1b[0m"), std::string::npos);
  EXPECT_NE(text.find("\x1b[32mpassed\x1b[0m"), std::string::npos);
}

TEST(RunReportText, StripsEscapeSequencesFromTestOutput) {
  RunReport report = sample_report();
  report.suites[0].tests->cases[1].message = "\x1b]0;owned\x07red \x1b[31mtext\xc2\x9b";
  std::string text = render_report_text(report, false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(RunReportTextSummary, ShowsTheSummaryWithoutControlCharacters) {
  RunReport report;
  SuiteReport suite;
  suite.suite = "unit";
  suite.passed = true;
  suite.exit_code = 0;
  report.suites.push_back(suite);
  report.summary_markdown = "## Latency\n| p50 | 3 ms |\nsneaky \x1b[2J escape\n";
  std::string text = render_report_text(report, false);
  EXPECT_NE(text.find("Summary:\n  ## Latency\n  | p50 | 3 ms |\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "a summary cannot drive the terminal";
}

}  // namespace
}  // namespace slipway
