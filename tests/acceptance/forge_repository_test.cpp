// A `slipway serve` whose repositories live on a forge, reached the way teams reach GitHub:
// over HTTPS with a token (nginx + git http-backend, a private CA) and over SSH with a deploy
// key (sshd, git-shell, a pinned host key). A webhook's push is fetched into the mirror and
// tested in the sandbox, whose git reads the mirror's objects; `slipway repo check` gives the
// server's diagnosis (exit 1, the secret's name, never its value); a wrong token fails the run
// saying so, and the server says it at start too; a secret that is not set refuses the start.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/webhook_signature.h"
#include "support/command_with_input.h"
#include "support/git_https_server.h"
#include "support/git_ssh_server.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::GitHttpsServer;
using testing::GitSshServer;
using testing::ScratchRepository;
using testing::ServerProcess;

constexpr const char* kAdminToken = "remote-repository-test-admin-token-012345";
constexpr const char* kToken = "forge-token-0123456789abcdef";
constexpr const char* kWrongToken = "forge-token-WRONG-9876543210";
constexpr const char* kHookSecret = "remote repository webhook secret";

class RemoteRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The suite runs git in the sandbox: the checkout's objects are the mirror's.
    work_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: 'git log -1 --format=%s && test -f app.txt'\n");
    work_.write("app.txt", "one\n");
    head_ = work_.commit("first version");
    std::filesystem::create_directories(data());
  }

  std::filesystem::path data() const { return folder_.path() / "data"; }

  void set_secret(const std::string& name, const std::string& value) {
    auto set = testing::set_secret_in(data(), {"--server-only", name}, value);
    ASSERT_EQ(set.exit_code, 0) << set.err;
  }

  void publish(const std::filesystem::path& bare) {
    if (!std::filesystem::exists(bare)) {
      ASSERT_TRUE(run_command_checked({"git", "init", "--quiet", "--bare", bare.string()}).ok());
    }
    work_.git({"push", "--quiet", bare.string(), "main"});
  }

  std::filesystem::path write_config(const std::string& repositories) {
    std::filesystem::path config = folder_.path() / "slipway.yml";
    std::ofstream(config) << "repositories:\n" << repositories;
    return config;
  }

  void start(const std::filesystem::path& config) {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", config.string(), "--data-dir", data().string()}, kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  CommandOutput slipway(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return testing::run_with_input(arguments, "", {{"SLIPWAY_SERVER", "http://" + server_->address()},
                                                   {"SLIPWAY_TOKEN", std::string(kAdminToken)}});
  }

  int64_t push_webhook(const std::string& repository, const std::string& sha) {
    std::string body = json{{"ref", "refs/heads/main"}, {"before", std::string(40, '0')}, {"after", sha}}.dump();
    auto answer = testing::http_request(server_->address(), "POST", "/api/v1/webhooks/git/" + repository,
                                        {{"X-GitHub-Event", "push"},
                                         {"X-GitHub-Delivery", "delivery-" + sha},
                                         {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kHookSecret, body)}},
                                        body);
    EXPECT_EQ(answer.status, 202) << answer.body;
    auto parsed = json::parse(answer.body, nullptr, false);
    return parsed.is_object() ? parsed.value("run", int64_t{0}) : 0;
  }

  int64_t trigger(const std::string& repository) {
    auto answer = testing::http_request(server_->address(), "POST", "/api/v1/repositories/" + repository + "/trigger",
                                        {{"Authorization", std::string("Bearer ") + kAdminToken}}, "");
    EXPECT_EQ(answer.status, 201) << answer.body;
    auto parsed = json::parse(answer.body, nullptr, false);
    return parsed.is_object() ? parsed.value("id", int64_t{0}) : 0;
  }

  json finished(int64_t id) {
    json run;
    for (int i = 0; i < 1200; ++i) {
      auto answer = testing::http_request(server_->address(), "GET", "/api/v1/runs/" + std::to_string(id),
                                          {{"Authorization", std::string("Bearer ") + kAdminToken}});
      run = json::parse(answer.body, nullptr, false);
      std::string status = run.is_object() ? run.value("status", "") : "";
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(100ms);
    }
    return run;
  }

  ScratchRepository work_;
  TemporaryDirectory folder_{"slipway-remote"};
  std::string head_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(RemoteRepositoryTest, HttpsWithATokenFromWebhookToPassingRun) {
  GitHttpsServer forge(kToken);
  publish(forge.repositories() / "web.git");
  set_secret("FORGE_TOKEN", kToken);
  set_secret("WRONG_TOKEN", kWrongToken);
  set_secret("WEB_HOOK", kHookSecret);
  std::string ca = forge.ca_file().string();
  start(write_config(
      "  - { name: web, url: '" + forge.url("web") + "', auth: { token: FORGE_TOKEN }, ca_file: " + ca +
      ", poll_interval: 0s, webhook_secret: WEB_HOOK }\n"
      "  - { name: refused, url: '" + forge.url("web") + "', auth: { token: WRONG_TOKEN }, ca_file: " + ca +
      ", poll_interval: 0s }\n"));

  json first = finished(push_webhook("web", head_));
  EXPECT_EQ(first.value("status", ""), "passed") << first.dump(2) << server_->log();
  EXPECT_EQ(first.value("commit", ""), head_);
  // The next commit arrives by an incremental fetch.
  work_.write("app.txt", "two\n");
  std::string second = work_.commit("second version");
  publish(forge.repositories() / "web.git");
  json next = finished(push_webhook("web", second));
  EXPECT_EQ(next.value("status", ""), "passed") << next.dump(2);
  EXPECT_EQ(next.value("commit", ""), second);

  auto ok = slipway({"repo", "check", "web"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto refused = slipway({"repo", "check", "refused"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  std::string diagnosis = "authentication failed for " + forge.url("web") + ": check secret WRONG_TOKEN";
  EXPECT_NE(refused.err.find(diagnosis), std::string::npos) << refused.err;
  json failed = finished(trigger("refused"));
  EXPECT_EQ(failed.value("status", ""), "failed");
  EXPECT_EQ(failed.value("reason", ""), diagnosis);
  EXPECT_NE(server_->log().find("repository refused: " + diagnosis), std::string::npos) << server_->log();
  for (const std::string& text : {refused.err, failed.dump(), server_->log()}) {
    EXPECT_EQ(text.find(kWrongToken), std::string::npos) << "the token's value is shown";
    EXPECT_EQ(text.find(kToken), std::string::npos) << "the token's value is shown";
  }
}

TEST_F(RemoteRepositoryTest, SshWithADeployKey) {
  GitSshServer forge;
  publish(forge.repositories() / "lib.git");
  set_secret("DEPLOY_KEY", forge.private_key());
  set_secret("FORGE_KNOWN_HOSTS", forge.known_hosts_line());
  start(write_config("  - { name: lib, url: '" + forge.url("lib.git") +
                     "', auth: { ssh_key: DEPLOY_KEY, known_hosts: FORGE_KNOWN_HOSTS }, poll_interval: 0s }\n"));
  json run = finished(trigger("lib"));
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2) << server_->log();
  EXPECT_EQ(run.value("commit", ""), head_);
}

TEST_F(RemoteRepositoryTest, ASecretThatIsNotSetRefusesTheStart) {
  auto config = write_config("  - { name: lib, url: 'ssh://git@127.0.0.1:1/lib.git', auth: { ssh_key: DEPLOY_KEY, "
                             "known_hosts: FORGE_KNOWN_HOSTS } }\n");
  auto served = run_command({SLIPWAY_BINARY, "serve", "--listen", "127.0.0.1:0", "--config", config.string(),
                             "--data-dir", data().string()},
                            CommandOptions{{}, std::nullopt, 30s});
  ASSERT_TRUE(served.ok());
  EXPECT_FALSE(served->timed_out) << "the server started";
  EXPECT_NE(served->exit_code, 0);
  EXPECT_NE(served->err.find("server secret DEPLOY_KEY is not set"), std::string::npos) << served->err << served->out;
}

}  // namespace
}  // namespace slipway
