// JUnit XML → TestReport. The format has no single specification: every producer writes its own
// dialect, and the counts in `tests=`/`failures=` are often missing or wrong, so the report is
// rebuilt from the <testcase> elements actually present. Everything copied out of the document
// goes through a TextBudget, so a hostile file cannot make the report much larger than itself.
#include "ci/junit_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <pugixml.hpp>

#include "base/strings.h"

namespace slipway {

namespace {

constexpr size_t kFieldLimit = 64 * 1024;       // messages, details, output
constexpr size_t kNameLimit = 4 * 1024;         // suite, class and test names, types
constexpr size_t kReportTextLimit = 64 * 1024 * 1024;
constexpr size_t kMaxCases = 250'000;
constexpr int kMaxSuiteDepth = 64;
constexpr std::string_view kSuiteSeparator = " › ";
constexpr std::string_view kTruncatedMark = "… (truncated)";

// The longest prefix of `text` of at most `limit` bytes that does not cut a UTF-8 sequence.
size_t utf8_prefix_length(std::string_view text, size_t limit) {
  if (limit >= text.size()) return text.size();
  size_t end = limit;
  while (end > 0 && limit - end < 4 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

// Copies text out of the document: valid UTF-8, at most `field_limit` bytes per field and
// kReportTextLimit for the whole report; anything cut is marked "… (truncated)".
class TextBudget {
 public:
  std::string take(std::string_view text, size_t field_limit) {
    size_t limit = std::min(field_limit, remaining_);
    bool cut = text.size() > limit;
    std::string out = sanitize_utf8(text.substr(0, utf8_prefix_length(text, limit)));
    if (out.size() > limit) {  // invalid bytes became 3-byte U+FFFD
      out.resize(utf8_prefix_length(out, limit));
      cut = true;
    }
    if (cut) out += kTruncatedMark;
    remaining_ -= std::min(remaining_, out.size());
    return out;
  }

 private:
  size_t remaining_ = kReportTextLimit;
};

bool is(pugi::xml_node node, const char* name) { return std::string_view(node.name()) == name; }

// The text of an element: its character data and CDATA sections, not that of nested elements.
// Stops collecting once past the field limit: the rest would be cut anyway.
std::string element_text(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_pcdata && child.type() != pugi::node_cdata) continue;
    text += child.value();
    if (text.size() > kFieldLimit) break;
  }
  return std::string(trim(text));
}

std::string_view first_line(std::string_view text) {
  return trim(text.substr(0, text.find('\n')));
}

// "0.012", "1,234.5" (Surefire under some locales); nothing for absent, garbage or negative.
std::optional<double> parse_seconds(const char* attribute) {
  std::string_view raw = attribute;
  if (raw.size() > 64) return std::nullopt;
  std::string digits;
  std::copy_if(raw.begin(), raw.end(), std::back_inserter(digits), [](char c) { return c != ','; });
  std::string_view text = trim(digits);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

std::optional<double> time_attribute(pugi::xml_node node) {
  return parse_seconds(node.attribute("time").value());
}

// What a case inherits from the suites around it.
struct SuiteScope {
  std::string path;        // names joined with " › "
  std::string system_out;  // the nearest suite's, used by cases without their own
  std::string system_err;
};

// The outcome-carrying children of a <testcase>. GoogleTest writes one <failure> per failed
// assertion, so there may be several of a kind.
struct CaseElements {
  std::vector<pugi::xml_node> errors, failures;
  pugi::xml_node skipped;
  std::string system_out, system_err;
};

CaseElements collect_case_elements(pugi::xml_node testcase) {
  CaseElements found;
  for (pugi::xml_node child : testcase.children()) {
    if (is(child, "error")) found.errors.push_back(child);
    else if (is(child, "failure")) found.failures.push_back(child);
    else if (is(child, "skipped") && !found.skipped) found.skipped = child;
    else if (is(child, "system-out")) found.system_out += element_text(child);
    else if (is(child, "system-err")) found.system_err += element_text(child);
    // Anything else (<properties>, Surefire's <flakyFailure>/<rerunFailure>) is not an outcome.
  }
  return found;
}

// GoogleTest marks GTEST_SKIP() with result="skipped" and DISABLED_ tests with status="notrun".
bool skipped_by_attribute(pugi::xml_node testcase) {
  std::string_view result = testcase.attribute("result").value();
  std::string_view status = testcase.attribute("status").value();
  return result == "skipped" || result == "suppressed" || status == "notrun";
}

class JunitParser {
 public:
  explicit JunitParser(std::string_view source_name) : source_name_(source_name) {}

  Result<TestReport> parse(pugi::xml_node root) {
    double case_time = 0;
    Status walked = is(root, "testsuite") ? walk_suite(root, SuiteScope{}, 0, &case_time)
                                          : walk_children(root, SuiteScope{}, 0, false, &case_time);
    if (!walked) return walked.error();
    report_.time_seconds = is(root, "testsuite") ? time_attribute(root).value_or(case_time)
                                                 : top_level_time_;
    return std::move(report_);
  }

 private:
  Status walk_suite(pugi::xml_node suite, const SuiteScope& outer, int depth, double* case_time) {
    return walk_children(suite, inner_scope(suite, outer), depth, true, case_time);
  }

  // Visits the cases and suites directly inside `node`; `*case_time` gains the time of every
  // case below it. Top-level suites (not inside another <testsuite>) give the report its time.
  Status walk_children(pugi::xml_node node, const SuiteScope& scope, int depth, bool in_suite,
                       double* case_time) {
    if (depth > kMaxSuiteDepth) {  // the walk recurses: bound the stack it uses
      return make_error(fmt::format("{}: test suites are nested more than {} levels deep",
                                    source_name_, kMaxSuiteDepth));
    }
    for (pugi::xml_node child : node.children()) {
      double child_time = 0;
      if (is(child, "testcase")) {
        if (report_.cases.size() >= kMaxCases) {
          return make_error(fmt::format("{}: more than {} test cases; split the report",
                                        source_name_, kMaxCases));
        }
        child_time = add_case(child, scope);
        if (!in_suite) top_level_time_ += child_time;
      } else if (is(child, "testsuite")) {
        if (Status s = walk_suite(child, scope, depth + 1, &child_time); !s) return s;
        if (!in_suite) top_level_time_ += time_attribute(child).value_or(child_time);
      } else if (is(child, "testsuites")) {
        if (Status s = walk_children(child, scope, depth + 1, in_suite, &child_time); !s) return s;
      }
      *case_time += child_time;
    }
    return {};
  }

  SuiteScope inner_scope(pugi::xml_node suite, const SuiteScope& outer) {
    SuiteScope scope = outer;
    std::string name = budget_.take(suite.attribute("name").value(), kNameLimit);
    if (!name.empty()) {
      scope.path = scope.path.empty() ? name : scope.path + std::string(kSuiteSeparator) + name;
      scope.path = budget_.take(scope.path, kNameLimit);
    }
    if (pugi::xml_node out = suite.child("system-out")) scope.system_out = element_text(out);
    if (pugi::xml_node err = suite.child("system-err")) scope.system_err = element_text(err);
    return scope;
  }

  // Returns the case's time.
  double add_case(pugi::xml_node testcase, const SuiteScope& scope) {
    TestCaseResult result;
    result.suite = budget_.take(scope.path, kNameLimit);  // a copy per case: it counts too
    result.classname = budget_.take(testcase.attribute("classname").value(), kNameLimit);
    result.name = budget_.take(testcase.attribute("name").value(), kNameLimit);
    result.time_seconds = time_attribute(testcase).value_or(0);

    CaseElements found = collect_case_elements(testcase);
    if (!found.errors.empty()) set_problem(result, TestOutcome::errored, found.errors);
    else if (!found.failures.empty()) set_problem(result, TestOutcome::failed, found.failures);
    else if (found.skipped) set_problem(result, TestOutcome::skipped, {found.skipped});
    else if (skipped_by_attribute(testcase)) result.outcome = TestOutcome::skipped;

    const std::string& out = found.system_out.empty() ? scope.system_out : found.system_out;
    const std::string& err = found.system_err.empty() ? scope.system_err : found.system_err;
    result.system_out = budget_.take(out, kFieldLimit);
    result.system_err = budget_.take(err, kFieldLimit);
    count(result.outcome);
    report_.cases.push_back(std::move(result));
    return report_.cases.back().time_seconds;
  }

  // Message from the first element's `message` attribute, else the first line of its text;
  // details are the texts of all of them.
  void set_problem(TestCaseResult& result, TestOutcome outcome,
                   const std::vector<pugi::xml_node>& elements) {
    result.outcome = outcome;
    std::string details;
    for (pugi::xml_node element : elements) {
      std::string text = element_text(element);
      if (text.empty()) continue;
      if (!details.empty()) details += "\n\n";
      details += text;
      if (details.size() > kFieldLimit) break;
    }
    std::string_view message = elements.front().attribute("message").value();
    result.message = budget_.take(message.empty() ? first_line(details) : message, kFieldLimit);
    result.type = budget_.take(elements.front().attribute("type").value(), kNameLimit);
    result.details = budget_.take(details, kFieldLimit);
  }

  void count(TestOutcome outcome) {
    switch (outcome) {
      case TestOutcome::passed: ++report_.passed; break;
      case TestOutcome::failed: ++report_.failed; break;
      case TestOutcome::errored: ++report_.errored; break;
      case TestOutcome::skipped: ++report_.skipped; break;
    }
  }

  std::string_view source_name_;
  TextBudget budget_;
  TestReport report_;
  double top_level_time_ = 0;
};

// "line 3, column 14": easier to act on than a byte offset alone.
std::string describe_offset(std::string_view xml, ptrdiff_t offset) {
  size_t end = std::min(xml.size(), static_cast<size_t>(std::max<ptrdiff_t>(offset, 0)));
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (xml[i] == '\n') ++line, line_start = i + 1;
  }
  return fmt::format("line {}, column {} (byte {})", line, end - line_start + 1, end);
}

}  // namespace

std::string_view test_outcome_name(TestOutcome outcome) {
  switch (outcome) {
    case TestOutcome::passed: return "passed";
    case TestOutcome::failed: return "failed";
    case TestOutcome::errored: return "error";
    case TestOutcome::skipped: return "skipped";
  }
  return "unknown";
}

void TestReport::merge(const TestReport& other) {
  cases.insert(cases.end(), other.cases.begin(), other.cases.end());
  passed += other.passed;
  failed += other.failed;
  errored += other.errored;
  skipped += other.skipped;
  time_seconds += other.time_seconds;
}

Result<TestReport> parse_junit(std::string_view xml, std::string_view source_name) {
  if (trim(xml).empty()) return make_error(fmt::format("{}: the report file is empty", source_name));
  pugi::xml_document document;
  // The default options leave DTDs and entity declarations unexpanded, so an entity bomb stays
  // a few bytes of literal text.
  pugi::xml_parse_result parsed =
      document.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  if (parsed.status == pugi::status_no_document_element) {
    return make_error(fmt::format("{}: not a JUnit report: it holds no XML element", source_name));
  }
  if (!parsed) {
    return make_error(fmt::format("{}: not valid XML: {} at {}", source_name, parsed.description(),
                                  describe_offset(xml, parsed.offset)));
  }
  pugi::xml_node root = document.document_element();
  if (!is(root, "testsuites") && !is(root, "testsuite")) {
    std::string name = sanitize_utf8(std::string_view(root.name()).substr(0, 64));
    return make_error(fmt::format("{}: not a JUnit report: root element is <{}>, expected "
                                  "<testsuites> or <testsuite>", source_name, name));
  }
  return JunitParser(source_name).parse(root);
}

}  // namespace slipway
