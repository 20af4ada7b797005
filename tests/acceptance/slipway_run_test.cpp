// `slipway run` end to end: the real binary, a real git repository, the sandbox executor.
#include <gtest/gtest.h>

#include <sstream>

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

const char* kTwoSuites = R"(kind: library
test:
  setup: echo preparing > prepared.txt
  suites:
    unit: { run: "test -f prepared.txt && echo unit ok" }
    broken: { run: "echo about to fail; exit 3" }
    after: { run: "echo still runs" }
)";

TEST(SlipwayRun, RunsEverySuiteAndFailsWhenOneFails) {
  ScratchRepository repo;
  repo.write(".slipway.yml", kTwoSuites);
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("[unit] unit ok"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[broken] about to fail"), std::string::npos);
  EXPECT_NE(result.out.find("[after] still runs"), std::string::npos);
  EXPECT_NE(result.out.find("broken exited with status 3"), std::string::npos);
  EXPECT_EQ(result.out.find("\x1b["), std::string::npos) << "no colour when stdout is not a TTY";
}

// A relative data directory, from --data-dir or SLIPWAY_DATA_DIR, is taken from the folder the
// command starts in, as `serve` does (it used to fail every run: "the step's workspace
// 'reldd/runs/1/workspace' is not an absolute path").
TEST(SlipwayRun, ARelativeDataDirectoryWorks) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo fine\" }\n");
  repo.commit();
  TemporaryDirectory folder("slipway-relative");
  const std::string in_folder = "cd '" + folder.path().string() + "' && ";
  auto flag = run_command({"/bin/bash", "-c", in_folder + "'" SLIPWAY_BINARY "' --data-dir reldd run '" + repo.path().string() + "'"});
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->exit_code, 0) << flag->out << flag->err;
  EXPECT_NE(flag->out.find("Report: " + (folder.path() / "reldd/runs/1/report.html").string()), std::string::npos) << flag->out;
  auto variable = run_command({"/bin/bash", "-c", in_folder + "SLIPWAY_DATA_DIR=fromenv '" SLIPWAY_BINARY "' run '" +
                                                      repo.path().string() + "'"});
  ASSERT_TRUE(variable.ok());
  EXPECT_EQ(variable->exit_code, 0) << variable->out << variable->err;
  EXPECT_TRUE(std::filesystem::exists(folder.path() / "fromenv/runs/1/report.html")) << variable->out;
}

// The sandbox is probed once, not on every `slipway run`: a passed probe is remembered in the
// data directory with what it depends on (the slipway binary that builds the sandbox, the kernel,
// the user-namespace settings, the uid) and run again only when that changes. Only a run that probes rewrites it.
TEST(SlipwayRun, TheSandboxProbeIsRememberedUntilItsConditionsChange) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  ASSERT_EQ(slipway.run({"run", repo.path().string()}).exit_code, 0);
  const std::filesystem::path record = slipway.data_dir() / "sandbox-probe";
  auto written = read_file(record);
  ASSERT_TRUE(written.ok()) << "no probe record after a sandboxed run";
  EXPECT_EQ(written->rfind("sandbox ", 0), 0u) << *written;

  auto long_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 365);
  std::filesystem::last_write_time(record, long_ago);
  ASSERT_EQ(slipway.run({"run", repo.path().string()}).exit_code, 0);
  EXPECT_EQ(std::filesystem::last_write_time(record), long_ago) << "probed again although nothing changed";

  ASSERT_TRUE(write_file_atomically(record, "sandbox /usr/bin/slipway of another machine\n").ok());
  ASSERT_EQ(slipway.run({"run", repo.path().string()}).exit_code, 0);
  auto rewritten = read_file(record);
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(*rewritten, *written) << "a changed condition must probe again";
}

TEST(SlipwayRun, ChecksOutTheCommitNotTheWorkingTree) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"cat version.txt\" }\n");
  repo.write("version.txt", "first\n");
  std::string first = repo.commit();
  repo.write("version.txt", "second\n");
  repo.commit();
  repo.write("version.txt", "uncommitted\n");
  repo.write("untracked.txt", "x");
  SlipwayCommand slipway;
  auto head = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(head.exit_code, 0) << head.out << head.err;
  EXPECT_NE(head.out.find("[unit] second"), std::string::npos) << head.out;
  auto older = slipway.run({"run", repo.path().string(), "--commit", first});
  EXPECT_EQ(older.exit_code, 0) << older.out << older.err;
  EXPECT_NE(older.out.find("[unit] first"), std::string::npos) << older.out;
}

TEST(SlipwayRun, SandboxKeepsTheHostReadOnly) {
  ScratchRepository repo;
  repo.write(".slipway.yml",
             "kind: library\ntest:\n  suites:\n    write-host: { run: \"touch /usr/slipway-should-not-exist\" }\n"
             "    write-workspace: { run: \"touch here && echo wrote\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists("/usr/slipway-should-not-exist"));
  EXPECT_NE(result.out.find("[write-workspace] wrote"), std::string::npos) << result.out;
}

TEST(SlipwayRun, ServicesStartBeforeSuitesAndStopAfter) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: application
test:
  services:
    marker: { run: "exec sleep 1000.2468", ready: "true" }
  suites:
    unit: { run: "echo suite sees service" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--executor", "host"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("service service:marker is ready"), std::string::npos) << result.out;
  EXPECT_FALSE(process_with_marker_running("sleep 1000.2468"));
}

TEST(SlipwayRun, ServiceThatNeverGetsReadyFailsTheRunAndSkipsSuites) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: application
test:
  services:
    db: { run: "exec sleep 1000.1357", ready: "echo not yet; false", ready_timeout: 1s }
  suites:
    unit: { run: "echo should not run" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("was not ready after 1.00s"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("should not run\n"), std::string::npos);
  EXPECT_FALSE(process_with_marker_running("sleep 1000.1357"));
}

TEST(SlipwayRun, JsonOutputCarriesTheRunAndReport) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto answer = nlohmann::json::parse(result.out);
  EXPECT_EQ(answer["status"], "passed");
  EXPECT_EQ(answer["report"]["suites"].size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(answer["report_dir"].get<std::string>()) / "report.html"));
}

TEST(SlipwayRun, NotAGitRepositoryIsBadInput) {
  TemporaryDirectory folder;
  SlipwayCommand slipway;
  auto result = slipway.run({"run", folder.path().string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("is not a git repository"), std::string::npos) << result.err;
}

// The commands named in one --help's "Subcommands:" section.
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> names;
  size_t section = help.find("\nSubcommands:\n");
  if (section == std::string::npos) return names;
  std::istringstream lines(help.substr(section + 14));
  for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

// Every command and subcommand, found by walking the help itself (so a new one is covered the
// day it is added): exit 0, its usage line and its own options, a description first.
TEST(SlipwayRun, HelpOnEveryCommand) {
  SlipwayCommand slipway;
  std::vector<std::vector<std::string>> pending = {{}};
  int seen = 0;
  while (!pending.empty()) {
    std::vector<std::string> command = pending.back();
    pending.pop_back();
    std::vector<std::string> arguments = command;
    arguments.push_back("--help");
    auto result = slipway.run(arguments);
    std::string path = "slipway";
    for (const auto& word : command) path += " " + word;
    ++seen;
    EXPECT_EQ(result.exit_code, 0) << path;
    EXPECT_NE(result.out.find("Usage: " + path), std::string::npos) << path << ":\n" << result.out;
    EXPECT_NE(result.out.find("-h,--help"), std::string::npos) << path;
    EXPECT_NE(result.out.rfind("Usage: ", 0), 0u) << path << " says what it is before its usage";
    for (const std::string& name : subcommands_in(result.out)) {
      std::vector<std::string> deeper = command;
      deeper.push_back(name);
      pending.push_back(deeper);
    }
  }
  EXPECT_GE(seen, 36) << "every command and its subcommands (36 when this was written)";
}

}  // namespace
}  // namespace slipway::testing

namespace slipway::testing {
namespace {

// A server's repositories are often bare; `slipway run` resolves and checks them out the same way.
TEST(SlipwayRunBare, RunsABareRepository) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo from bare\" }\n");
  repo.commit();
  TemporaryDirectory bare_folder;
  auto bare = bare_folder.path() / "repo.git";
  ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", repo.path().string(), bare.string()}).ok());
  SlipwayCommand slipway;
  auto result = slipway.run({"run", bare.string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("[unit] from bare"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace slipway::testing
