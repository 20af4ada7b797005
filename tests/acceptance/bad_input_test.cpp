// Each bad input the foundation issue lists gets a clear message in the run, the run's result is
// recorded, and nothing is left running.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

struct Recorded {
  CommandOutput run;
  nlohmann::json show;
};

// Runs the repository's last commit and reads back what the history recorded.
Recorded run_repository(const ScratchRepository& repo) {
  SlipwayCommand slipway;
  Recorded recorded;
  recorded.run = slipway.run({"run", repo.path().string()});
  auto listed = slipway.run({"runs", "list", "--json"});
  auto runs = nlohmann::json::parse(listed.out, nullptr, false);
  if (runs.is_array() && !runs.empty()) {
    auto shown = slipway.run({"runs", "show", std::to_string(runs[0]["id"].get<int64_t>()), "--json"});
    recorded.show = nlohmann::json::parse(shown.out, nullptr, false);
  }
  return recorded;
}

// Commits `spec` (and `files`), runs it, and reads back what the history recorded.
Recorded run_spec(const std::string& spec, const std::vector<std::pair<std::string, std::string>>& files = {}) {
  ScratchRepository repo;
  repo.write(".slipway.yml", spec);
  for (const auto& [name, content] : files) repo.write(name, content);
  repo.commit();
  return run_repository(repo);
}

std::string reason_of(const Recorded& recorded) {
  return recorded.show.is_object() ? recorded.show.value("reason", "") : "";
}

TEST(BadInput, MalformedYamlIsRecordedWithItsPosition) {
  auto recorded = run_spec("kind: library\ntest:\n  suites:\n    unit: { run: \"true\"\n");
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_NE(recorded.run.out.find(".slipway.yml:"), std::string::npos) << recorded.run.out;
  EXPECT_EQ(recorded.show["status"], "failed");
  EXPECT_NE(recorded.show["reason"].get<std::string>().find("invalid .slipway.yml"), std::string::npos);
}

TEST(BadInput, WrongTypeAndUnknownKindAreRecorded) {
  auto wrong_type = run_spec("kind: library\ntest:\n  suites: [unit]\n");
  EXPECT_EQ(wrong_type.run.exit_code, 1);
  EXPECT_EQ(wrong_type.show["status"], "failed");
  auto unknown_kind = run_spec("kind: aplication\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  EXPECT_EQ(unknown_kind.run.exit_code, 1);
  EXPECT_NE(unknown_kind.run.out.find("application"), std::string::npos) << unknown_kind.run.out;
  EXPECT_EQ(unknown_kind.show["status"], "failed");
}

TEST(BadInput, MissingReportFileFailsTheSuite) {
  auto recorded = run_spec("kind: library\ntest:\n  suites:\n    unit: { run: \"true\", junit: reports/unit.xml }\n");
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_NE(recorded.run.out.find("reports/unit.xml"), std::string::npos) << recorded.run.out;
  EXPECT_NE(recorded.show["suites"][0]["problems"].get<std::string>().find("missing"), std::string::npos);
}

TEST(BadInput, ReportThatIsNotXmlFailsTheSuite) {
  auto recorded = run_spec(
      "kind: library\ntest:\n  suites:\n    unit: { run: \"mkdir -p r && echo 'not xml at all' > r/u.xml\", junit: r/u.xml }\n");
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_EQ(recorded.show["status"], "failed");
  EXPECT_FALSE(recorded.show["suites"][0]["problems"].get<std::string>().empty());
}

TEST(BadInput, ReportPathsThatEscapeTheWorkspaceAreRefused) {
  auto dotdot = run_spec("kind: library\ntest:\n  suites:\n    unit: { run: \"true\", junit: ../outside.xml }\n");
  EXPECT_EQ(dotdot.run.exit_code, 1);
  EXPECT_EQ(dotdot.show["status"], "failed");
  auto absolute = run_spec("kind: library\ntest:\n  suites:\n    unit: { run: \"true\", junit: /etc/passwd }\n");
  EXPECT_EQ(absolute.run.exit_code, 1);
  EXPECT_EQ(absolute.show["status"], "failed");
  auto symlink = run_spec(
      "kind: library\ntest:\n  suites:\n    unit: { run: \"ln -s /etc/passwd report.xml\", junit: report.xml }\n");
  EXPECT_EQ(symlink.run.exit_code, 1);
  EXPECT_NE(symlink.show["suites"][0]["problems"].get<std::string>().find("workspace"), std::string::npos)
      << symlink.show.dump();
}

TEST(BadInput, NonUtf8OutputIsKeptReadable) {
  auto recorded = run_spec("kind: library\ntest:\n  suites:\n    unit: { run: \"printf 'bad \\\\377\\\\376 bytes\\\\n'\" }\n");
  EXPECT_EQ(recorded.run.exit_code, 0) << recorded.run.out << recorded.run.err;
  EXPECT_NE(recorded.run.out.find("bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"), std::string::npos) << recorded.run.out;
}

// The stored log holds all 10 MiB, in lines no longer than a log line may be, then "done".
TEST(BadInput, TenMegabyteLineIsLoggedInPieces) {
  ScratchRepository repo;
  repo.write(".slipway.yml",
             "kind: library\ntest:\n  suites:\n    unit: { run: \"head -c 10485760 /dev/zero | tr '\\\\0' x; echo; echo done\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto run = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("[unit] done"), std::string::npos);
  auto listed = nlohmann::json::parse(slipway.run({"runs", "list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << listed.dump();
  auto logs = slipway.run({"runs", "logs", std::to_string(listed[0]["id"].get<int64_t>()), "--step", "unit"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  std::istringstream lines(logs.out);
  size_t pieces = 0, xs = 0, longest = 0;
  bool done_after = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of('x') == std::string::npos && !line.empty()) {
      ++pieces;
      xs += line.size();
      longest = std::max(longest, line.size());
    } else if (line == "done") {
      done_after = pieces > 0;
    }
  }
  EXPECT_EQ(xs, 10485760u) << "every byte of the line is stored";
  EXPECT_GT(pieces, 1u) << "in pieces";
  EXPECT_LE(longest, 65536u);
  EXPECT_TRUE(done_after) << "the next line follows the pieces";
}

TEST(BadInput, DaemonForkedByAStepIsStopped) {
  auto recorded = run_spec(
      "kind: library\ntest:\n  suites:\n    unit: { run: \"(setsid sleep 1000.9753 &) ; echo forked\" }\n");
  EXPECT_EQ(recorded.run.exit_code, 0) << recorded.run.out;
  EXPECT_FALSE(process_with_marker_running("sleep 1000.9753"));
}

TEST(BadInput, StepThatNeverEndsTimesOut) {
  auto recorded = run_spec(
      "kind: library\ntest:\n  suites:\n    unit: { run: \"echo waiting; sleep 1000.8642\", timeout: 1s }\n    next: { run: \"echo next\" }\n");
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_NE(recorded.run.out.find("timed out"), std::string::npos) << recorded.run.out;
  EXPECT_NE(recorded.run.out.find("[next] next"), std::string::npos) << "later suites still run";
  EXPECT_FALSE(process_with_marker_running("sleep 1000.8642"));
  EXPECT_EQ(recorded.show["status"], "failed");
}

// A .slipway.yml comes from the commit's git objects: only a regular file of at most 256 KiB.

TEST(BadInput, SpecSymlinkedToASecretIsRefusedQuotingNothing) {
  TemporaryDirectory outside("slipway-outside");
  const std::string secret = "ZQXJ7KV9WPMB3HFY";
  std::ofstream(outside.path() / "master.key") << secret << "\n";
  ScratchRepository repo;
  std::filesystem::create_symlink(outside.path() / "master.key", repo.path() / ".slipway.yml");
  repo.commit();
  auto recorded = run_repository(repo);
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_EQ(recorded.show["status"], "failed");
  std::string reason = reason_of(recorded);
  EXPECT_NE(reason.find(".slipway.yml of commit"), std::string::npos) << reason;
  EXPECT_NE(reason.find("is a symbolic link"), std::string::npos) << reason;
  EXPECT_EQ(reason.find(outside.path().string()), std::string::npos) << "the target is not quoted: " << reason;
  for (size_t at = 0; at + 4 <= secret.size(); ++at) {
    EXPECT_EQ(reason.find(secret.substr(at, 4)), std::string::npos) << reason;
    EXPECT_EQ(recorded.run.out.find(secret.substr(at, 4)), std::string::npos) << recorded.run.out;
  }
}

TEST(BadInput, TenMegabyteSpecIsRefusedUnread) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\n# " + std::string(10 * 1024 * 1024, 'x') + "\n");
  repo.commit();
  auto recorded = run_repository(repo);
  EXPECT_EQ(recorded.run.exit_code, 1);
  std::string reason = reason_of(recorded);
  EXPECT_NE(reason.find("is 10485777 bytes: a .slipway.yml may be at most 256 KiB"), std::string::npos) << reason;
  // Before, parsing such a file took a process to 1 GB; `slipway run` (and git) now stay small.
  struct rusage usage {};
  ASSERT_EQ(::getrusage(RUSAGE_CHILDREN, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 200 * 1024) << "largest child's peak RSS, in KiB";
}

TEST(BadInput, SubmoduleOrDirectorySpecIsRefused) {
  ScratchRepository repo;
  repo.write("README", "a repository whose .slipway.yml is a submodule\n");
  std::string commit = repo.commit();
  repo.git({"update-index", "--add", "--cacheinfo", "160000," + commit + ",.slipway.yml"});
  repo.git({"-c", "user.name=T", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "submodule"});
  auto submodule = run_repository(repo);
  EXPECT_EQ(submodule.run.exit_code, 1);
  EXPECT_NE(reason_of(submodule).find("is a submodule: it must be a regular file"), std::string::npos)
      << reason_of(submodule);

  ScratchRepository folder;
  folder.write(".slipway.yml/inside", "kind: library\n");
  folder.commit();
  auto directory = run_repository(folder);
  EXPECT_NE(reason_of(directory).find("is a directory: it must be a regular file"), std::string::npos)
      << reason_of(directory);
}

TEST(BadInput, MissingSpecSaysToAddOne) {
  ScratchRepository repo;
  repo.write("README", "no spec here\n");
  repo.commit();
  auto recorded = run_repository(repo);
  EXPECT_EQ(recorded.run.exit_code, 1);
  EXPECT_NE(reason_of(recorded).find("has no .slipway.yml at the repository root: add one"), std::string::npos)
      << reason_of(recorded);
}

}  // namespace
}  // namespace slipway::testing
