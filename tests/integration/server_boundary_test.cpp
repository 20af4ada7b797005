// What a real `slipway serve` keeps to itself (issue 11): its admin token and master key leave its
// environment at start — /proc/PID/environ shows neither, and a helper it runs (git, through a
// wrapper first on PATH that records what it inherited) gets neither; its data directory is
// 0700 and its database files and logs 0600, even when an older version made them wider; a
// short admin token is refused at start; and a .slipway.yml symlinked to the master key or to
// /dev/zero fails its run with a reason that quotes nothing, while the server keeps serving.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "store/master_key.h"
#include "store/store.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;

const std::string kAdminToken = "boundary-test-admin-token-5f0c2a9e7d";
const std::string kMasterKeyText = to_base64(std::string(32, '\x5a'));

// The mode bits of `path` (0 when it does not exist).
unsigned mode_of(const fs::path& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 ? status.st_mode & 0777 : 0;
}

class ServerBoundary : public ::testing::Test {
 protected:
  void SetUp() override {
    repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo hello\" }\n");
    repository_.commit();
    // A `git` first on PATH that appends the environment it was given to a file, then runs git.
    fs::create_directories(folder_.path() / "bin");
    std::ofstream(folder_.path() / "bin" / "git")
        << "#!/bin/sh\nenv >> '" << (folder_.path() / "git-environment.txt").string()
        << "'\nexec /usr/bin/git \"$@\"\n";
    fs::permissions(folder_.path() / "bin" / "git", fs::perms::owner_all);
    std::ofstream(folder_.path() / "slipway.yml")
        << "executor: host\nrepositories:\n  - { name: demo, url: " << repository_.path().string()
        << ", main: main, poll_interval: 0s }\n";
  }

  // Starts the server with both secrets in its environment and the recording git on its PATH.
  void start_server() {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    ::setenv("PATH", ((folder_.path() / "bin").string() + ":" + path).c_str(), 1);
    ::setenv(kMasterKeyVariable, kMasterKeyText.c_str(), 1);
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken);
    ::setenv("PATH", path.c_str(), 1);
    ::unsetenv(kMasterKeyVariable);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  fs::path data() const { return folder_.path() / "data"; }

  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "") {
    return http_request(server_->address(), method, target, {{"Authorization", "Bearer " + kAdminToken}}, body);
  }

  // Triggers a run (of `branch`, or main) and waits until it has finished; returns it.
  nlohmann::json finished_run(const std::string& branch = "main") {
    auto triggered = call("POST", "/api/v1/repositories/demo/trigger", nlohmann::json{{"branch", branch}}.dump());
    EXPECT_EQ(triggered.status, 201) << triggered.body;
    int64_t id = nlohmann::json::parse(triggered.body, nullptr, false).value("id", int64_t{0});
    for (int i = 0; i < 600; ++i) {
      auto run = nlohmann::json::parse(call("GET", "/api/v1/runs/" + std::to_string(id)).body, nullptr, false);
      std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not finish in a minute";
    return {};
  }

  ScratchRepository repository_;
  TemporaryDirectory folder_{"slipway-boundary"};
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerBoundary, TheServersSecretsLeaveItsEnvironment) {
  start_server();
  auto environ_block = read_file(fs::path("/proc") / std::to_string(server_->pid()) / "environ");
  ASSERT_TRUE(environ_block.ok()) << environ_block.error().message;
  EXPECT_NE(environ_block->find("PATH="), std::string::npos) << "the rest of the environment is still there";
  for (const std::string& kept_out : {std::string("SLIPWAY_ADMIN_TOKEN"), std::string("SLIPWAY_MASTER_KEY"),
                                      kAdminToken, kMasterKeyText}) {
    EXPECT_EQ(environ_block->find(kept_out), std::string::npos) << "/proc/PID/environ shows " << kept_out;
  }
  // A run makes the server call git (rev-parse, the checkout): what git inherited is recorded.
  EXPECT_EQ(finished_run().value("status", ""), "passed") << server_->log();
  auto inherited = read_file(folder_.path() / "git-environment.txt");
  ASSERT_TRUE(inherited.ok()) << "the recording git was never run";
  EXPECT_NE(inherited->find("PATH="), std::string::npos);
  for (const std::string& kept_out : {std::string("SLIPWAY_ADMIN_TOKEN"), std::string("SLIPWAY_MASTER_KEY"),
                                      kAdminToken, kMasterKeyText}) {
    EXPECT_EQ(inherited->find(kept_out), std::string::npos) << "git inherited " << kept_out;
  }
  // The key was used all the same: no master.key file was made.
  EXPECT_FALSE(fs::exists(master_key_file(data())));
}

TEST_F(ServerBoundary, TheDataDirectoryIsPrivateEvenWhenAnOlderVersionMadeItWider) {
  fs::create_directories(data());
  fs::permissions(data(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  ASSERT_TRUE(Store::open(data() / "slipway.db").ok());
  ASSERT_EQ(::chmod((data() / "slipway.db").c_str(), 0644), 0);
  start_server();
  auto run = finished_run();
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump();
  EXPECT_EQ(mode_of(data()), 0700u);
  for (const char* file : {"slipway.db", "slipway.db-wal", "slipway.db-shm"}) {
    EXPECT_EQ(mode_of(data() / file), 0600u) << file;
  }
  int logs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(data() / "runs")) {
    if (entry.path().extension() != ".log") continue;
    ++logs;
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
  }
  EXPECT_GT(logs, 0) << "the run wrote step logs";
}

TEST_F(ServerBoundary, AShortAdminTokenIsRefusedAtStart) {
  auto refused = run_with_input({SLIPWAY_BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir", data().string()},
                                "", {{"SLIPWAY_ADMIN_TOKEN", "admin-token-of-30-characters!!"}});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("30 characters long: an admin token needs at least 32"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("admin-token-of"), std::string::npos) << "the token is never quoted";
  EXPECT_FALSE(fs::exists(data())) << "refused before anything was made";
}

TEST_F(ServerBoundary, ASpecSymlinkedToTheMasterKeyOrToDevZeroQuotesNothing) {
  start_server();
  // What the attacker pushed: links to the server's key (its path is guessable) and to /dev/zero.
  fs::path key_file = folder_.path() / "secret.key";
  const std::string secret = "ZQXJ7KV9WPMB3HFY";
  std::ofstream(key_file) << secret << "\n";
  for (const auto& [branch, target] : std::vector<std::pair<std::string, fs::path>>{{"to-key", key_file},
                                                                                   {"to-zero", "/dev/zero"}}) {
    repository_.git({"checkout", "--quiet", "-B", branch, "main"});
    fs::remove(repository_.path() / ".slipway.yml");
    fs::create_symlink(target, repository_.path() / ".slipway.yml");
    repository_.commit("a hostile .slipway.yml");
    auto run = finished_run(branch);
    std::string reason = run.value("reason", "");
    EXPECT_EQ(run.value("status", ""), "failed") << run.dump();
    EXPECT_NE(reason.find("is a symbolic link"), std::string::npos) << reason;
    EXPECT_EQ(reason.find(target.string()), std::string::npos) << "the link's target is not quoted: " << reason;
    for (size_t at = 0; at + 4 <= secret.size(); ++at) {
      EXPECT_EQ(reason.find(secret.substr(at, 4)), std::string::npos) << reason;
    }
  }
  // Still serving, and main still runs.
  EXPECT_EQ(finished_run("main").value("status", ""), "passed") << server_->log();
}

}  // namespace
}  // namespace slipway::testing
