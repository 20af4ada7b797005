// The base layer's pure helpers: strings, durations, UTF-8 repair, path containment.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "base/time.h"

namespace slipway {
namespace {

TEST(Strings, ClosestMatchSuggestsOnlyPlausibleTypos) {
  EXPECT_EQ(closest_match("suits", {"suites", "setup", "services"}), "suites");
  EXPECT_EQ(closest_match("aplication", {"application", "data-task", "library"}), "application");
  EXPECT_EQ(closest_match("zzzzzz", {"suites", "setup"}), "");
  EXPECT_EQ(closest_match("junti", {"junit", "run", "timeout"}), "junit") << "a swap is one edit";
  EXPECT_EQ(closest_match("hots", {"host", "none"}), "host");
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Strings, SanitizeUtf8ReplacesOnlyInvalidSequences) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(sanitize_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(sanitize_utf8("\xC3"), "\xEF\xBF\xBD");               // truncated sequence
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(Strings, LastLineIsWhereAProgramGivesItsDiagnosis) {
  EXPECT_EQ(last_line("starting\nstill starting\nfatal: no such thing\n"), "fatal: no such thing");
  EXPECT_EQ(last_line("one line"), "one line");
  EXPECT_EQ(last_line("progress\r\nerror: refused\r\n\n"), "error: refused");
  EXPECT_EQ(last_line(""), "");
  EXPECT_EQ(last_line(" \n \n"), "");
}

TEST(Strings, EscapingAndQuoting) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(shell_quote("simple"), "simple");
  EXPECT_EQ(shell_quote("it's; rm -rf /"), "'it'\\''s; rm -rf /'");
}

TEST(Strings, TakeCompleteLinesKeepsTheUnfinishedRest) {
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) { lines.emplace_back(line); };
  std::string pending = "one\n\ntw";
  take_complete_lines(pending, collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", ""}));
  EXPECT_EQ(pending, "tw");
  pending += "o\nthree";
  take_complete_lines(pending, collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "", "two"}));
  EXPECT_EQ(pending, "three");
  take_complete_lines(pending, collect);  // no newline: nothing is handed on
  EXPECT_EQ(lines.size(), 3u);
  EXPECT_EQ(pending, "three");
}

TEST(Time, ParsesDurationsWithUnitsOnly) {
  EXPECT_EQ(parse_duration("1h30m")->count(), 5'400'000);
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("45s")->count(), 45'000);
  EXPECT_EQ(parse_duration("90d")->count(), 90LL * 86'400'000);
  EXPECT_FALSE(parse_duration("30").ok());
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("5 minutes").ok());
  EXPECT_FALSE(parse_duration("-5s").ok());
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_duration(Milliseconds(1500)), "1.50s");
  EXPECT_EQ(format_duration(Milliseconds(125'000)), "2m05s");
}

TEST(Files, PathContainmentFollowsSymlinks) {
  TemporaryDirectory root;
  std::filesystem::create_directories(root.path() / "inside");
  std::filesystem::create_symlink("/etc", root.path() / "escape");
  EXPECT_TRUE(path_is_within(root.path(), "inside/file.xml"));
  EXPECT_FALSE(path_is_within(root.path(), "../x"));
  EXPECT_FALSE(path_is_within(root.path(), "/etc/passwd"));
  EXPECT_FALSE(path_is_within(root.path(), "escape/passwd"));
}

TEST(Files, AtomicWriteThenRead) {
  TemporaryDirectory root;
  ASSERT_TRUE(write_file_atomically(root.path() / "f.txt", "content").ok());
  EXPECT_EQ(*read_file(root.path() / "f.txt"), "content");
  EXPECT_FALSE(read_file(root.path() / "missing").ok());
}

TEST(RunCommand, CapturesOutputAndReportsMissingPrograms) {
  auto echoed = run_command({"sh", "-c", "echo out; echo err >&2; exit 4"});
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(echoed->out, "out\n");
  EXPECT_EQ(echoed->err, "err\n");
  EXPECT_EQ(echoed->exit_code, 4);
  EXPECT_FALSE(run_command({"/nonexistent/program"}).ok());
  auto checked = run_command_checked({"sh", "-c", "echo broken >&2; exit 1"});
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message, "sh failed (exit 1): broken");
  auto named = run_command_checked({"sh", "-c", "exit 3"}, {}, "the named program");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().message, "the named program failed (exit 3): ");
}

}  // namespace
}  // namespace slipway
