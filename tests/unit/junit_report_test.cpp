#include "ci/junit_report.h"

#include <gtest/gtest.h>

#include <string>

#include "base/files.h"

namespace slipway {
namespace {

std::string fixture(const std::string& name) {
  auto text = read_file(std::string(SLIPWAY_SOURCE_DIR) + "/tests/unit/fixtures/junit/" + name);
  EXPECT_TRUE(text.ok()) << text.error().message;
  return text.ok() ? *text : std::string();
}

TestReport parse_fixture(const std::string& name) {
  auto report = parse_junit(fixture(name), name);
  EXPECT_TRUE(report.ok()) << report.error().message;
  return report.ok() ? *report : TestReport{};
}

const TestCaseResult* find_case(const TestReport& report, const std::string& name) {
  for (const TestCaseResult& test : report.cases) {
    if (test.name == name) return &test;
  }
  ADD_FAILURE() << "no test case named " << name;
  return nullptr;
}

void expect_counts(const TestReport& report, int passed, int failed, int errored, int skipped) {
  EXPECT_EQ(report.passed, passed);
  EXPECT_EQ(report.failed, failed);
  EXPECT_EQ(report.errored, errored);
  EXPECT_EQ(report.skipped, skipped);
  EXPECT_EQ(report.cases.size(), static_cast<size_t>(report.total()));
}

TEST(JunitReport, ReadsPytest) {
  TestReport report = parse_fixture("pytest.xml");
  expect_counts(report, 2, 1, 1, 2);
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.412);

  const TestCaseResult* failed = find_case(report, "test_divide_by_zero");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->suite, "pytest");
  EXPECT_EQ(failed->classname, "tests.test_calc");
  EXPECT_EQ(failed->outcome, TestOutcome::failed);
  EXPECT_EQ(failed->message, "ZeroDivisionError: division by zero");
  EXPECT_NE(failed->details.find(">       return a / b"), std::string::npos);
  EXPECT_NE(failed->system_out.find("dividing 1 by 0"), std::string::npos);
  EXPECT_NE(failed->system_err.find("warning: b is zero"), std::string::npos);

  const TestCaseResult* skipped = find_case(report, "test_network");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->outcome, TestOutcome::skipped);
  EXPECT_EQ(skipped->message, "needs network");
  EXPECT_EQ(skipped->type, "pytest.skip");

  const TestCaseResult* errored = find_case(report, "test_connect");
  ASSERT_NE(errored, nullptr);
  EXPECT_EQ(errored->outcome, TestOutcome::errored);
  EXPECT_EQ(errored->message,
            "failed on setup with \"ConnectionRefusedError: [Errno 111] Connection refused\"");
  EXPECT_EQ(find_case(report, "test_add")->system_out, "");
}

TEST(JunitReport, ReadsJestWithTextOnlyFailures) {
  TestReport report = parse_fixture("jest.xml");
  expect_counts(report, 3, 1, 0, 1);
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.842 + 0.690);

  const TestCaseResult* failed = find_case(report, "Calculator divides");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->suite, "Calculator");
  EXPECT_EQ(failed->message, "Error: expect(received).toBe(expected) // Object.is equality");
  EXPECT_NE(failed->details.find("Received: Infinity"), std::string::npos);
  EXPECT_NE(failed->details.find("Object.<anonymous>"), std::string::npos);
  EXPECT_EQ(find_case(report, "users GET /users lists users")->suite, "api/users");
}

TEST(JunitReport, JoinsNestedSuiteNamesAndInheritsSuiteOutput) {
  TestReport report = parse_fixture("vitest_nested.xml");
  expect_counts(report, 2, 1, 0, 1);
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.021);  // the top-level suite's, not the sum of levels

  const TestCaseResult* failed = find_case(report, "applies the discount");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->suite, "src/cart.test.ts › Cart › checkout");
  EXPECT_EQ(failed->message, "expected 90 to be 81 // Object.is equality");
  EXPECT_EQ(failed->type, "AssertionError");
  EXPECT_TRUE(failed->details.starts_with("AssertionError: expected 90"));
  EXPECT_EQ(failed->system_out, "cart: loaded 3 fixtures");
  EXPECT_EQ(find_case(report, "adds an item")->suite, "src/cart.test.ts › Cart");
  EXPECT_EQ(find_case(report, "is empty at first")->suite, "src/cart.test.ts");
}

TEST(JunitReport, ReadsGoogleTest) {
  TestReport report = parse_fixture("googletest.xml");
  expect_counts(report, 3, 1, 0, 2);
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.005);

  const TestCaseResult* failed = find_case(report, "TrimsBoth");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->suite, "StringsTest");
  EXPECT_TRUE(failed->message.starts_with("/app/tests/strings_test.cc:20\nExpected equality"));
  EXPECT_EQ(failed->type, "");
  // One <failure> per failed assertion: the details keep them all.
  EXPECT_NE(failed->details.find("Which is: \"a \""), std::string::npos);
  EXPECT_NE(failed->details.find("Actual: false"), std::string::npos);

  EXPECT_EQ(find_case(report, "NeedsNetwork")->outcome, TestOutcome::skipped);
  EXPECT_EQ(find_case(report, "NeedsNetwork")->message,
            "/app/tests/strings_test.cc:30\nno network in the sandbox");
  EXPECT_EQ(find_case(report, "DISABLED_ParsesDays")->outcome, TestOutcome::skipped);
}

TEST(JunitReport, ReadsSurefireAndIgnoresReruns) {
  TestReport report = parse_fixture("surefire.xml");
  expect_counts(report, 2, 1, 1, 1);
  EXPECT_DOUBLE_EQ(report.time_seconds, 1052.5);  // "1,052.5", as some locales write it

  const TestCaseResult* failed = find_case(report, "divides");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->suite, "com.example.CalculatorTest");
  EXPECT_EQ(failed->message, "expected: <2> but was: <3>");
  EXPECT_EQ(failed->type, "org.opentest4j.AssertionFailedError");
  EXPECT_EQ(failed->system_out, "dividing 6 by 2");

  const TestCaseResult* errored = find_case(report, "parses");
  EXPECT_EQ(errored->outcome, TestOutcome::errored);
  EXPECT_EQ(errored->type, "java.lang.NumberFormatException");
  EXPECT_EQ(errored->system_err, "parse failed for \"x\"");

  const TestCaseResult* flaky = find_case(report, "retriesOnTimeout");
  EXPECT_EQ(flaky->outcome, TestOutcome::passed);
  EXPECT_EQ(flaky->system_out, "");
  EXPECT_EQ(find_case(report, "ignoredForNow")->message, "not ready");
}

TEST(JunitReport, ReadsJUnit5LegacyXml) {
  TestReport report = parse_fixture("junit5.xml");
  expect_counts(report, 2, 1, 0, 1);
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.125);

  const TestCaseResult* skipped = find_case(report, "multiplies()");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->message, "public void com.example.CalculatorTests.multiplies() is @Disabled");
  EXPECT_NE(skipped->system_out.find("unique-id: [engine:junit-jupiter]/[class:"), std::string::npos);
  EXPECT_EQ(find_case(report, "legacyAdds")->suite, "JUnit Vintage");
}

TEST(JunitReport, CountsCasesNotAttributesWhenAttributesAreMissing) {
  TestReport report = parse_fixture("missing_attributes.xml");
  expect_counts(report, 5, 1, 1, 0);  // tests="99" failures="42" are ignored
  EXPECT_DOUBLE_EQ(report.time_seconds, 0.75);  // no suite time: the cases' (garbage, -3 count 0)

  const TestCaseResult& unnamed = report.cases[2];
  EXPECT_EQ(unnamed.name, "");
  EXPECT_EQ(unnamed.suite, "");
  EXPECT_EQ(unnamed.system_err, "suite-level stderr");

  const TestCaseResult& failed = report.cases[1];
  EXPECT_EQ(failed.classname, "only.classname");
  EXPECT_EQ(failed.message, "boom");
  EXPECT_EQ(failed.details, "boom\n\nsecond line of the failure");
  EXPECT_EQ(find_case(report, "d")->outcome, TestOutcome::errored);
  EXPECT_EQ(find_case(report, "d")->message, "");
}

TEST(JunitReport, EmptyReportHasNoCases) {
  TestReport report = parse_fixture("empty.xml");
  expect_counts(report, 0, 0, 0, 0);
  EXPECT_EQ(report.time_seconds, 0);
  auto lone_suite = parse_junit("<testsuite name=\"x\" time=\"2.5\"/>", "lone.xml");
  ASSERT_TRUE(lone_suite.ok());
  EXPECT_DOUBLE_EQ(lone_suite->time_seconds, 2.5);
}

TEST(JunitReport, RejectsFilesThatAreNotXml) {
  auto report = parse_junit(fixture("not_xml.txt"), "reports/not_xml.txt");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("reports/not_xml.txt"), std::string::npos);
  EXPECT_NE(report.error().message.find("not a JUnit report"), std::string::npos);
  auto garbage = parse_junit("<testsuite><testcase name=\"a\"></testsuite>\x01<<", "garbage.xml");
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(garbage.error().message.starts_with("garbage.xml: not valid XML: "));

  auto empty = parse_junit("  \n", "blank.xml");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "blank.xml: the report file is empty");
}

TEST(JunitReport, RejectsTruncatedFilesWithTheirPosition) {
  auto report = parse_junit(fixture("truncated.xml"), "truncated.xml");
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().message.starts_with("truncated.xml: not valid XML: "))
      << report.error().message;
  EXPECT_NE(report.error().message.find("line "), std::string::npos);
}

TEST(JunitReport, RejectsOtherDocuments) {
  auto report = parse_junit("<html><body>502 Bad Gateway</body></html>", "unit.xml");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("unit.xml: not a JUnit report: root element is <html>"),
            std::string::npos);
}

TEST(JunitReport, DeeplyNestedSuitesAreAnErrorNotACrash) {
  std::string xml = "<testsuites>";
  for (int i = 0; i < 10'000; ++i) xml += "<testsuite name=\"s\">";
  xml += "<testcase name=\"deep\"/>";
  for (int i = 0; i < 10'000; ++i) xml += "</testsuite>";
  xml += "</testsuites>";
  auto report = parse_junit(xml, "deep.xml");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("nested more than"), std::string::npos);
}

TEST(JunitReport, DeeplyNestedElementsInsideACaseAreIgnored) {
  std::string xml = "<testsuite><testcase name=\"t\"><failure message=\"m\">";
  for (int i = 0; i < 10'000; ++i) xml += "<x>";
  for (int i = 0; i < 10'000; ++i) xml += "</x>";
  xml += "</failure></testcase></testsuite>";
  auto report = parse_junit(xml, "deep.xml");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->failed, 1);
}

TEST(JunitReport, CapsHugeTextFields) {
  std::string huge(5 * 1024 * 1024, 'A');
  std::string xml = "<testsuite><testcase name=\"" + huge + "\"><failure message=\"" + huge +
                    "\">" + huge + "</failure><system-out>" + huge + "</system-out></testcase></testsuite>";
  auto report = parse_junit(xml, "huge.xml");
  ASSERT_TRUE(report.ok()) << report.error().message;
  const TestCaseResult& test = report->cases.at(0);
  EXPECT_LE(test.message.size(), 65 * 1024u);
  EXPECT_TRUE(test.message.ends_with("… (truncated)"));
  EXPECT_LE(test.details.size(), 65 * 1024u);
  EXPECT_LE(test.system_out.size(), 65 * 1024u);
  EXPECT_LE(test.name.size(), 5 * 1024u);
}

TEST(JunitReport, BoundsTheWholeReportWhenSuiteOutputIsSharedByManyCases) {
  // Each failing case would inherit the suite's 60 KiB of output: 1200 copies is 72 MiB.
  std::string xml = "<testsuite><system-out>" + std::string(60 * 1024, 'o') + "</system-out>";
  for (int i = 0; i < 1200; ++i) xml += "<testcase name=\"t\"><failure/></testcase>";
  xml += "</testsuite>";
  auto report = parse_junit(xml, "shared.xml");
  ASSERT_TRUE(report.ok()) << report.error().message;
  size_t stored = 0;
  for (const TestCaseResult& test : report->cases) stored += test.system_out.size();
  EXPECT_EQ(report->failed, 1200);
  EXPECT_LE(stored, 65u * 1024 * 1024);
}

TEST(JunitReport, LeavesEntityBombsUnexpanded) {
  std::string xml = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<testsuite><testcase name="t"><failure message="&lol9;">&xxe;</failure></testcase></testsuite>)";
  auto report = parse_junit(xml, "bomb.xml");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_LT(report->cases.at(0).message.size(), 100u);
  EXPECT_EQ(report->cases.at(0).details.find("root:"), std::string::npos);
}

TEST(JunitReport, ReplacesInvalidUtf8) {
  std::string xml = "<testsuite name=\"s\xff\"><testcase name=\"t\xc3\"><failure message=\"bad \xfe\"/>"
                    "</testcase></testsuite>";
  auto report = parse_junit(xml, "latin.xml");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->cases.at(0).suite, "s\xEF\xBF\xBD");
  EXPECT_EQ(report->cases.at(0).message, "bad \xEF\xBF\xBD");
}

TEST(JunitReport, MergeAddsUpReports) {
  TestReport all = parse_fixture("pytest.xml");
  all.merge(parse_fixture("jest.xml"));
  expect_counts(all, 5, 2, 1, 3);
  EXPECT_DOUBLE_EQ(all.time_seconds, 0.412 + 1.532);
}

TEST(JunitReport, NamesOutcomes) {
  EXPECT_EQ(test_outcome_name(TestOutcome::passed), "passed");
  EXPECT_EQ(test_outcome_name(TestOutcome::failed), "failed");
  EXPECT_EQ(test_outcome_name(TestOutcome::errored), "error");
  EXPECT_EQ(test_outcome_name(TestOutcome::skipped), "skipped");
}

}  // namespace
}  // namespace slipway
