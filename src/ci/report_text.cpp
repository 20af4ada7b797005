// The run report for a terminal: a table of suites, the problems, then each failure with a few
// lines of its output. Test output is untrusted and a terminal obeys escape sequences, so every
// control character that came from a report is removed; the only escapes in the result are the
// colours added here, and only when asked for.
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/strings.h"
#include "ci/run_report.h"

namespace slipway {

namespace {

constexpr size_t kMaxFailuresShown = 50;  // the rest is in the HTML and JSON reports

enum class Colour { none, green, red, yellow, bold };

class Painter {
 public:
  explicit Painter(bool enabled) : enabled_(enabled) {}
  std::string operator()(std::string_view text, Colour colour) const {
    if (!enabled_ || colour == Colour::none || text.empty()) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code(colour), text);
  }

 private:
  static std::string_view code(Colour colour) {
    switch (colour) {
      case Colour::green: return "32";
      case Colour::red: return "31";
      case Colour::yellow: return "33";
      case Colour::bold: return "1";
      case Colour::none: break;
    }
    return "0";
  }
  bool enabled_;
};

// Valid UTF-8 with no C0/C1 control characters (tabs become spaces): safe to print.
std::string terminal_safe(std::string_view text) {
  std::string clean = sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size());
  for (size_t i = 0; i < clean.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(clean[i]);
    if (c == '\t') out += "    ";
    else if (c < 0x20 || c == 0x7F) continue;
    else if (c == 0xC2 && i + 1 < clean.size() && static_cast<unsigned char>(clean[i + 1]) < 0xA0) ++i;
    else out.push_back(static_cast<char>(c));
  }
  return out;
}

// Columns are measured in code points: close enough for names and numbers.
size_t display_width(std::string_view text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

struct Cell {
  std::string text;
  Colour colour = Colour::none;
};

std::string suite_result(const SuiteReport& suite) {
  if (suite.timed_out) return "timed out";
  return suite.passed ? "passed" : "failed";
}

std::vector<Cell> suite_row(const SuiteReport& suite) {
  auto count = [&](int value, Colour colour) {
    if (!suite.tests) return Cell{"-"};
    return Cell{std::to_string(value), value > 0 ? colour : Colour::none};
  };
  const auto& tests = suite.tests;
  return {Cell{terminal_safe(suite.suite)},
          count(tests ? tests->passed : 0, Colour::none),
          count(tests ? tests->failed + tests->errored : 0, Colour::red),
          count(tests ? tests->skipped : 0, Colour::yellow),
          Cell{format_duration(suite.duration)},
          Cell{suite_result(suite), suite.passed ? Colour::green : Colour::red}};
}

// Left-aligns the first column and the last, right-aligns the numbers between them.
std::string render_table(const std::vector<std::vector<Cell>>& rows, const Painter& paint) {
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i].text));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string padding(widths[i] - display_width(row[i].text), ' ');
      bool left = i == 0 || i + 1 == row.size();
      if (i > 0) line += "  ";
      line += left ? paint(row[i].text, row[i].colour) + (i + 1 == row.size() ? "" : padding)
                   : padding + paint(row[i].text, row[i].colour);
    }
    out += line + "\n";
  }
  return out;
}

std::string suites_table(const RunReport& report, const Painter& paint) {
  std::vector<std::vector<Cell>> rows;
  rows.push_back({{"SUITE", Colour::bold}, {"PASSED", Colour::bold}, {"FAILED", Colour::bold},
                  {"SKIPPED", Colour::bold}, {"TIME", Colour::bold}, {"RESULT", Colour::bold}});
  for (const SuiteReport& suite : report.suites) rows.push_back(suite_row(suite));
  return render_table(rows, paint);
}

std::string problems(const RunReport& report, const Painter& paint) {
  std::string out;
  for (const SuiteReport& suite : report.suites) {
    for (const std::string& problem : suite.problems) {
      out += "  " + paint(terminal_safe(suite.suite) + ": " + terminal_safe(problem), Colour::yellow) + "\n";
    }
  }
  return out.empty() ? out : "\nProblems:\n" + out;
}

// The first `limit` lines of the failure's details and output, after those already shown
// in its message (GoogleTest repeats the message as the details).
std::string output_excerpt(const TestCaseResult& test, size_t limit) {
  std::vector<std::string> lines;
  for (const std::string* text : {&test.details, &test.system_out, &test.system_err}) {
    if (text->empty() || (text == &test.details && trim(*text) == trim(test.message))) continue;
    for (std::string& line : split(trim(*text), '\n')) lines.push_back(std::move(line));
  }
  std::string out;
  for (size_t i = 0; i < lines.size() && i < limit; ++i) out += "      " + terminal_safe(lines[i]) + "\n";
  if (lines.size() > limit) out += fmt::format("      … {} more lines\n", lines.size() - limit);
  return out;
}

std::string failure_entry(const SuiteReport& suite, const TestCaseResult& test,
                          const Painter& paint, size_t output_lines) {
  std::string label = test.outcome == TestOutcome::errored ? "error" : "failed";
  std::string out = fmt::format("  {} {} › {}\n", paint(label, Colour::red),
                                paint(terminal_safe(suite.suite), Colour::bold),
                                paint(terminal_safe(display_test_name(test)), Colour::bold));
  for (const std::string& line : split(trim(test.message), '\n')) {
    if (!trim(line).empty()) out += "    " + terminal_safe(line) + "\n";
  }
  return out + output_excerpt(test, output_lines);
}

std::string failures(const RunReport& report, const Painter& paint, size_t output_lines) {
  std::string out;
  size_t total = 0;
  for (const SuiteReport& suite : report.suites) {
    if (!suite.tests) continue;
    for (const TestCaseResult& test : suite.tests->cases) {
      if (test.outcome != TestOutcome::failed && test.outcome != TestOutcome::errored) continue;
      if (++total <= kMaxFailuresShown) out += "\n" + failure_entry(suite, test, paint, output_lines);
    }
  }
  if (total > kMaxFailuresShown) {
    out += fmt::format("\n  … and {} more failures: see the HTML report\n", total - kMaxFailuresShown);
  }
  return out.empty() ? out : "\nFailures:\n" + out;
}

std::string totals_line(const RunReport& report, const Painter& paint) {
  RunTotals totals = run_totals(report);
  std::string errors = totals.errored > 0 ? fmt::format(" ({} error{})", totals.errored, totals.errored == 1 ? "" : "s") : "";
  std::string line = fmt::format("{} passed, {} failed{}, {} skipped", totals.passed,
                                 totals.failed + totals.errored, errors, totals.skipped);
  return "\n" + paint(paint(line, report.passed() ? Colour::green : Colour::red), Colour::bold) + "\n";
}

}  // namespace

// The Markdown the steps wrote to $SLIPWAY_SUMMARY, as text: Markdown reads well enough raw,
// and the HTML report renders it properly.
std::string summary(const RunReport& report, size_t max_lines = 40) {
  if (report.summary_markdown.empty()) return "";
  std::string out = "\nSummary:\n";
  std::vector<std::string> lines = split(report.summary_markdown, '\n');
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  for (size_t i = 0; i < lines.size() && i < max_lines; ++i) out += "  " + terminal_safe(lines[i]) + "\n";
  if (lines.size() > max_lines) out += fmt::format("  … {} more lines in report.html\n", lines.size() - max_lines);
  return out;
}

std::string render_report_text(const RunReport& report, bool colour, size_t output_lines) {
  Painter paint(colour);
  if (report.suites.empty()) return totals_line(report, paint).substr(1);
  return suites_table(report, paint) + problems(report, paint) +
         failures(report, paint, output_lines) + summary(report) + totals_line(report, paint);
}

}  // namespace slipway
