// parse_junit: reads JUnit XML as pytest, jest/vitest (jest-junit), GoogleTest, Maven Surefire
// and JUnit 5 write it (a <testsuites> root or a lone <testsuite>, nested suites, <skipped>,
// <failure>, <error>, <system-out>/<system-err>, missing attributes). Hostile or malformed input
// yields an Error naming the file and, where known, the offset; never a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

enum class TestOutcome { passed, failed, errored, skipped };
std::string_view test_outcome_name(TestOutcome outcome);  // "passed", "failed", "error", "skipped"

struct TestCaseResult {
  std::string suite;          // the enclosing <testsuite name>, nested names joined with " › "
  std::string classname;
  std::string name;
  double time_seconds = 0;
  TestOutcome outcome = TestOutcome::passed;
  std::string message;        // failure/error/skipped message attribute (or first line of text)
  std::string type;           // failure/error type attribute
  std::string details;        // failure/error element text (stack trace, assertion output)
  std::string system_out;     // <system-out> of the case (or of its suite when the case has none)
  std::string system_err;
};

struct TestReport {
  std::vector<TestCaseResult> cases;
  int passed = 0, failed = 0, errored = 0, skipped = 0;
  double time_seconds = 0;    // sum of the suites' time, or of the cases' when suites have none
  int total() const { return passed + failed + errored + skipped; }
  void merge(const TestReport& other);  // for a suite whose glob matched several files
};

Result<TestReport> parse_junit(std::string_view xml, std::string_view source_name);

}  // namespace slipway
