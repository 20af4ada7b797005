// run_verify_command for real: /bin/sh is started (posix_spawn) with an environment made from
// scratch, its output is masked before it is kept, its process group dies at the timeout, and
// nothing of it is left running. What it tried and what stopped it:
//   - `env` with the server's SLIPWAY_ADMIN_TOKEN / SLIPWAY_MASTER_KEY set in this process: the
//     explicit environment (none of the server's variables) keeps them out;
//   - printing its secret plain, base64-, URL- and JSON-encoded: the masker turns each into ***;
//   - a background child that outlives the timeout: killed with the process group.
#include "cd/verify_command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "base/files.h"
#include "base/strings.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "Sup3r\"Secret/Key+Value";

VerifyRequest request_for(const std::string& command) {
  VerifyRequest request;
  request.command = command;
  request.variables = {{"SLIPWAY_TEST_URL", "http://127.0.0.1:9"}, {"SLIPWAY_APPLICATION", "hello"}};
  request.secrets = {{"API_KEY", kSecret}};
  request.timeout = 30s;
  return request;
}

// Sets variables in this process for the test's length, as the server has them set.
class ServerVariables {
 public:
  ServerVariables() {
    ::setenv("SLIPWAY_ADMIN_TOKEN", "admin-token-of-the-server-0123456789abcdef", 1);
    ::setenv("SLIPWAY_MASTER_KEY", "master-key-of-the-server-0123456789abcdef", 1);
    ::setenv("SLIPWAY_VERIFY_CANARY", "operator-shell-variable", 1);
  }
  ~ServerVariables() {
    ::unsetenv("SLIPWAY_ADMIN_TOKEN");
    ::unsetenv("SLIPWAY_MASTER_KEY");
    ::unsetenv("SLIPWAY_VERIFY_CANARY");
  }
};

TEST(VerifyCommand, GetsOnlyItsOwnEnvironmentNothingOfTheServer) {
  ServerVariables server;
  auto outcome = run_verify_command(request_for("env; pwd"));
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->passed) << outcome->output_tail;
  const std::string& seen = outcome->output_tail;
  EXPECT_EQ(seen.find("SLIPWAY_ADMIN_TOKEN"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("SLIPWAY_MASTER_KEY"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("admin-token-of-the-server"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("SLIPWAY_VERIFY_CANARY"), std::string::npos) << seen;
  // What it is given: the base, its variables and its secret (masked when printed).
  EXPECT_NE(seen.find("SLIPWAY_TEST_URL=http://127.0.0.1:9"), std::string::npos) << seen;
  EXPECT_NE(seen.find("SLIPWAY_APPLICATION=hello"), std::string::npos) << seen;
  EXPECT_NE(seen.find("API_KEY=***"), std::string::npos) << seen;
  EXPECT_NE(seen.find("PATH=/usr/local/sbin:"), std::string::npos) << seen;
  EXPECT_NE(seen.find("LANG=C.UTF-8"), std::string::npos) << seen;
  // HOME is a private folder of its own, also its working directory, gone afterwards.
  auto home = seen.find("HOME=");
  ASSERT_NE(home, std::string::npos) << seen;
  std::string home_path(seen.substr(home + 5, seen.find('\n', home) - home - 5));
  EXPECT_NE(home_path.find("slipway-verify"), std::string::npos) << home_path;
  EXPECT_NE(seen.find("\n" + home_path + "\n"), std::string::npos) << "pwd is not HOME:\n" << seen;
  EXPECT_FALSE(std::filesystem::exists(home_path)) << home_path;
}

TEST(VerifyCommand, ASecretPrintedInEveryFormComesOutMasked) {
  auto outcome = run_verify_command(request_for(
      "printf 'plain: %s\\n' \"$API_KEY\"\n"
      "printf 'base64: %s\\n' \"$(printf %s \"$API_KEY\" | base64 -w0)\"\n"
      "printf 'url: %s\\n' \"$(printf %s \"$API_KEY\" | sed 's/\"/%22/g; s#/#%2F#g; s/+/%2B/g')\"\n"
      "printf 'json: %s\\n' \"$(printf %s \"$API_KEY\" | sed 's/\"/\\\\\"/g')\" >&2\n"
      "exit 3"));
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_FALSE(outcome->passed);
  EXPECT_EQ(outcome->exit_code, 3);
  const std::string& tail = outcome->output_tail;
  for (const char* line : {"plain: ***\n", "base64: ***\n", "url: ***\n", "json: ***\n"}) {
    EXPECT_NE(tail.find(line), std::string::npos) << line << " not in:\n" << tail;
  }
  for (const char* form : {"Sup3r", "U3VwM3", "Secret%2F", "Secret/Key", "Key+Value"}) {
    EXPECT_EQ(tail.find(form), std::string::npos) << form << " in:\n" << tail;
  }
}

TEST(VerifyCommand, OnlyTheLastTwoKilobytesAreKeptAndASecretAtTheCutIsStillMasked) {
  // The secret, then padding that puts the cut of a naive tail inside it.
  auto outcome = run_verify_command(request_for(
      "printf '%s' \"$API_KEY\"; head -c 2040 /dev/zero | tr '\\0' x; exit 1"));
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  const std::string& tail = outcome->output_tail;
  EXPECT_LE(tail.size(), 2048u);
  EXPECT_EQ(tail.find("Value"), std::string::npos) << tail.substr(0, 40);
  EXPECT_EQ(tail.find("Key+"), std::string::npos) << tail.substr(0, 40);
}

TEST(VerifyCommand, ItsProcessGroupIsKilledAtTheTimeout) {
  TemporaryDirectory folder("slipway-verify-test");
  std::string marker = (folder.path() / "still-running").string();
  // The background child is a shell whose arguments name the marker, so /proc can find it.
  VerifyRequest request =
      request_for("sh -c 'sleep 2; touch \"$1\"' child " + marker + " & echo started; sleep 600");
  request.timeout = 500ms;
  auto outcome = run_verify_command(request);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_FALSE(outcome->passed);
  EXPECT_EQ(outcome->exit_code, -1);
  EXPECT_NE(outcome->output_tail.find("started"), std::string::npos) << outcome->output_tail;
  // The background child was in the group: gone when the command's outcome is, its file untouched.
  EXPECT_FALSE(testing::process_with_marker_running(marker));
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(VerifyCommand, ABackgroundChildDoesNotOutliveACommandThatPassed) {
  TemporaryDirectory folder("slipway-verify-test");
  std::string marker = (folder.path() / "still-running").string();
  auto outcome = run_verify_command(request_for("sh -c 'sleep 1; touch \"$1\"' child " + marker + " & exit 0"));
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->passed);
  EXPECT_FALSE(testing::process_with_marker_running(marker)) << "the child outlived the command";
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(VerifyCommand, TheLaunchPrefixComesBeforeTheShell) {
  VerifyRequest request = request_for("true");
  EXPECT_EQ(verify_argv(request), (std::vector<std::string>{"/bin/sh", "-c", "true"}));
  request.launch_prefix = {"/usr/bin/env", "--"};
  EXPECT_EQ(verify_argv(request), (std::vector<std::string>{"/usr/bin/env", "--", "/bin/sh", "-c", "true"}));
  auto outcome = run_verify_command(request);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->passed);
}

TEST(VerifyCommand, BadInputIsRefusedWithoutQuotingAValue) {
  VerifyRequest bad_name = request_for("true");
  bad_name.variables["BAD=NAME"] = "x";
  auto refused = run_verify_command(bad_name);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("BAD=NAME"), std::string::npos) << refused.error().message;

  VerifyRequest nul_value = request_for("true");
  nul_value.secrets["API_KEY"] = std::string("Sup3r\0Secret", 12);
  auto nul = run_verify_command(nul_value);
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.error().message.find("API_KEY"), std::string::npos) << nul.error().message;
  EXPECT_EQ(nul.error().message.find("Sup3r"), std::string::npos) << nul.error().message;

  VerifyRequest missing = request_for("true");
  missing.launch_prefix = {"/nonexistent/launcher"};
  auto not_started = run_verify_command(missing);
  ASSERT_FALSE(not_started.ok());
  EXPECT_NE(not_started.error().message.find("/nonexistent/launcher"), std::string::npos)
      << not_started.error().message;
}

}  // namespace
}  // namespace slipway
