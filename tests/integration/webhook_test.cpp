// The push paths into a real `slipway serve`: GitHub-compatible webhooks (signature, bad input,
// deduplication, replays, hostile branch names) and the post-receive hook that `slipway hook
// install` writes, driven by a real `git push`. The webhook's key is a server secret, set with
// `slipway secret set --server-only` before the server starts; the repository's suite fails if
// its job can see that key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/webhook_signature.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::HttpAnswer;
using testing::ScratchRepository;
using testing::ServerProcess;

constexpr const char* kAdminToken = "webhook-test-admin-token-0123456789abcdef";
constexpr const char* kSecretName = "SLIPWAY_TEST_WEBHOOK_SECRET";
constexpr const char* kSecret = "correct horse battery staple";

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The suite passes only when the job sees neither the webhook key's name nor its value, but
    // does see the shared job secret (so secrets do reach it).
    work_.write(".slipway.yml", std::string("kind: library\ntest:\n  suites:\n    unit: 'test -z \"${") + kSecretName +
                                    ":-}\" && ! env | grep -qF \"correct horse\" && test -n \"${SHARED_SECRET:-}\" "
                                    "&& echo unit ok'\n"
                                    "publish:\n  tag: { bump: patch }\n");
    head_ = work_.commit("first");
    bare_ = folder_.path() / "demo.git";
    ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", work_.path().string(), bare_.string()}).ok());
    std::ofstream(folder_.path() / "slipway.yml")
        << "executor: host\nmax_body_bytes: 64k\nrepositories:\n"
        << "  - { name: demo, url: " << bare_.string() << ", poll_interval: 0s, webhook_secret: " << kSecretName << " }\n"
        << "  - { name: unsigned, url: " << bare_.string() << ", poll_interval: 0s }\n"
        << "  - { name: unset, url: " << bare_.string() << ", poll_interval: 0s, webhook_secret: UNSET_SECRET }\n"
        << "  - { name: old-way, url: " << bare_.string() << ", poll_interval: 0s, webhook_secret: OLD_SECRET }\n";
    ::unsetenv(kSecretName);
    std::filesystem::create_directories(data());
    set_secret({"--server-only", kSecretName}, kSecret);
    // As earlier versions kept a webhook key: a repository secret, which every test job received.
    set_secret({"old-way", "*", "OLD_SECRET"}, kSecret);
    set_secret({"*", "*", "SHARED_SECRET"}, "a shared job secret");
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  std::filesystem::path data() const { return folder_.path() / "data"; }

  // `slipway secret set ADDRESS... --data-dir DATA` with `value` on standard input.
  void set_secret(const std::vector<std::string>& address, const std::string& value) {
    auto set = testing::set_secret_in(data(), address, value);
    ASSERT_EQ(set.exit_code, 0) << set.err;
  }

  HttpAnswer webhook(const std::string& repository, const std::string& body, std::map<std::string, std::string> headers) {
    return testing::http_request(server_->address(), "POST", "/api/v1/webhooks/git/" + repository, headers, body);
  }

  // A push event signed with the right secret, with a fresh delivery id unless one is given.
  HttpAnswer signed_push(const std::string& body, const std::string& delivery = "",
                         const std::string& repository = "demo") {
    std::map<std::string, std::string> headers = {{"X-GitHub-Event", "push"},
                                                  {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kSecret, body)}};
    headers["X-GitHub-Delivery"] = delivery.empty() ? "delivery-" + std::to_string(++deliveries_) : delivery;
    return webhook(repository, body, headers);
  }

  static std::string push_body(const std::string& ref, const std::string& after) {
    return nlohmann::json{{"ref", ref}, {"before", std::string(40, '0')}, {"after", after}}.dump();
  }

  nlohmann::json runs() {
    auto answer = testing::http_request(server_->address(), "GET", "/api/v1/runs?repository=demo",
                                        {{"Authorization", std::string("Bearer ") + kAdminToken}});
    auto body = nlohmann::json::parse(answer.body, nullptr, false);
    // A failed call is a failure, never "no runs": a check for none must be able to fail.
    if (answer.status != 200 || !body.is_object() || !body["runs"].is_array()) {
      ADD_FAILURE() << "GET /api/v1/runs answered " << answer.status << ": " << answer.body;
      return nlohmann::json::array();
    }
    return body["runs"];
  }

  // Waits until a run of `commit` exists; returns it, or null after a few seconds.
  nlohmann::json wait_for_run(const std::string& commit) {
    for (int i = 0; i < 100; ++i) {
      for (const auto& run : runs()) {
        if (run.value("commit", "") == commit) return run;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nullptr;
  }

  // Waits until the run of `commit` has finished; returns it, or null after a minute.
  nlohmann::json wait_for_finished_run(const std::string& commit) {
    for (int i = 0; i < 600; ++i) {
      for (const auto& run : runs()) {
        std::string status = run.value("status", "");
        if (run.value("commit", "") == commit && status != "queued" && status != "running") return run;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nullptr;
  }

  int deliveries_ = 0;
  ScratchRepository work_;
  TemporaryDirectory folder_{"slipway-webhook"};
  std::filesystem::path bare_;
  std::string head_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(WebhookTest, WrongOrMissingSignatureIs401) {
  std::string body = push_body("refs/heads/main", head_);
  EXPECT_EQ(webhook("demo", body, {{"X-GitHub-Event", "push"}}).status, 401);
  auto wrong = webhook("demo", body, {{"X-GitHub-Event", "push"},
                                      {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex("not the secret", body)}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("does not match"), std::string::npos) << wrong.body;
  auto unsigned_repository = webhook("unsigned", body, {{"X-GitHub-Event", "push"},
                                                        {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kSecret, body)}});
  EXPECT_EQ(unsigned_repository.status, 401);
  EXPECT_NE(unsigned_repository.body.find("webhook_secret"), std::string::npos) << unsigned_repository.body;
  EXPECT_TRUE(runs().empty());
}

TEST_F(WebhookTest, UnknownRepositoryIs404NamingNoRepository) {
  auto answer = webhook("nope", push_body("refs/heads/main", head_), {{"X-GitHub-Event", "push"}});
  EXPECT_EQ(answer.status, 404);
  EXPECT_NE(answer.body.find("nope"), std::string::npos) << answer.body;
  for (const char* configured : {"demo", "unsigned", "old-way"}) {
    EXPECT_EQ(answer.body.find(configured), std::string::npos) << "an anonymous caller learns of " << configured;
  }
}

TEST_F(WebhookTest, ASecretWithNoValueIs401SayingItIsReadPerRequest) {
  auto answer = signed_push(push_body("refs/heads/main", head_), "", "unset");
  EXPECT_EQ(answer.status, 401);
  EXPECT_NE(answer.body.find("slipway secret set --server-only UNSET_SECRET"), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("read at every request"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find("then restart"), std::string::npos) << "the old advice is gone: " << answer.body;
  // ...and it is: set now, the next delivery is accepted without a restart.
  set_secret({"--server-only", "UNSET_SECRET"}, kSecret);
  auto accepted = signed_push(push_body("refs/heads/main", head_), "", "unset");
  EXPECT_EQ(accepted.status, 202) << accepted.body;
}

TEST_F(WebhookTest, AKeyStoredAsARepositorySecretIsNotUsed) {
  // It was handed to every test job: the server refuses it and says how to move it.
  auto answer = signed_push(push_body("refs/heads/main", head_), "", "old-way");
  EXPECT_EQ(answer.status, 401);
  EXPECT_NE(answer.body.find("every test job"), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("--server-only OLD_SECRET"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find(kSecret), std::string::npos);
  EXPECT_TRUE(runs().empty());
}

TEST_F(WebhookTest, MissingDeliveryIdIs400) {
  std::string body = push_body("refs/heads/main", head_);
  auto answer = webhook("demo", body, {{"X-GitHub-Event", "push"},
                                       {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kSecret, body)}});
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("missing X-GitHub-Delivery"), std::string::npos) << answer.body;
  EXPECT_TRUE(runs().empty());
}

TEST_F(WebhookTest, AReplayedPushOfAnOldCommitStartsNothing) {
  // main moves on; then the signed delivery of the push of its old head arrives again.
  std::string old_body = push_body("refs/heads/main", head_);
  work_.write("change.txt", "second\n");
  std::string newer = work_.commit("second");
  work_.git({"push", "--quiet", bare_.string(), "main"});
  auto replayed = signed_push(old_body, "a-new-delivery-id");
  ASSERT_EQ(replayed.status, 202) << replayed.body;
  auto answer = nlohmann::json::parse(replayed.body, nullptr, false);
  std::string ignored = answer.value("ignored", "");
  EXPECT_NE(ignored.find("stale push"), std::string::npos) << replayed.body;
  EXPECT_NE(ignored.find(newer.substr(0, 12)), std::string::npos) << "it says where main is: " << replayed.body;
  EXPECT_FALSE(answer.contains("run"));
  // The current head is accepted, and it is the only run there is.
  ASSERT_EQ(signed_push(push_body("refs/heads/main", newer)).status, 202);
  ASSERT_FALSE(wait_for_run(newer).is_null());
  auto all = runs();
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0].value("commit", ""), newer);
}

TEST_F(WebhookTest, TheJobSeesNoWebhookKey) {
  ASSERT_EQ(signed_push(push_body("refs/heads/main", head_)).status, 202);
  auto run = wait_for_finished_run(head_);
  ASSERT_FALSE(run.is_null()) << server_->log();
  // The suite checks that neither the key's variable nor its value is in its environment.
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump();
}

TEST_F(WebhookTest, OversizedBodyIs413) {
  std::string body = push_body("refs/heads/main", head_);
  body.insert(body.size() - 1, ",\"padding\":\"" + std::string(100'000, 'x') + "\"");
  EXPECT_EQ(signed_push(body).status, 413);
}

TEST_F(WebhookTest, MalformedJsonIs400) {
  EXPECT_EQ(signed_push("{\"ref\": \"refs/heads/main\", ").status, 400);
  EXPECT_EQ(signed_push("[1, 2]").status, 400);
  EXPECT_EQ(signed_push(R"({"ref": "refs/heads/main"})").status, 400);  // no "after"
  EXPECT_EQ(signed_push(push_body("refs/heads/a\x01z", head_)).status, 400);
  EXPECT_TRUE(runs().empty());
}

TEST_F(WebhookTest, PingTagAndDeletionStartNothing) {
  auto ping = webhook("demo", "{}", {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kSecret, "{}")}});
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(signed_push(push_body("refs/tags/v1.0.0", head_)).status, 202);
  EXPECT_EQ(signed_push(push_body("refs/heads/gone", std::string(40, '0'))).status, 202);
  EXPECT_TRUE(runs().empty());
}

TEST_F(WebhookTest, DuplicateDeliveryStartsOneRun) {
  std::string body = push_body("refs/heads/main", head_);
  auto first = signed_push(body, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  ASSERT_EQ(first.status, 202) << first.body;
  auto second = signed_push(body, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(second.status, 200) << second.body;
  auto answer = nlohmann::json::parse(second.body, nullptr, false);
  EXPECT_EQ(answer.value("duplicate", false), true);
  EXPECT_EQ(answer.value("run", 0), nlohmann::json::parse(first.body).value("run", -1));
  ASSERT_FALSE(wait_for_run(head_).is_null());
  EXPECT_EQ(runs().size(), 1u);
}

// A forge that retries while the first attempt is still being answered: eight copies of one
// delivery sent at the same moment start exactly one run; every other copy says it is a
// duplicate of that run (the delivery id is claimed in the transaction that queues the run).
TEST_F(WebhookTest, CopiesOfOneDeliveryAtOnceStartOneRun) {
  std::string body = push_body("refs/heads/main", head_);
  constexpr int kCopies = 8;
  std::vector<HttpAnswer> answers(kCopies);
  std::vector<std::thread> senders;
  std::atomic<int> ready{0};
  for (int i = 0; i < kCopies; ++i) {
    senders.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kCopies) std::this_thread::yield();
      answers[i] = signed_push(body, "5f6b3a52-d0a1-4c6e-9c1b-concurrent");
    });
  }
  for (auto& sender : senders) sender.join();
  int queued = 0, duplicates = 0;
  std::set<int64_t> runs_named;
  for (const HttpAnswer& answer : answers) {
    auto json = nlohmann::json::parse(answer.body, nullptr, false);
    ASSERT_TRUE(json.is_object()) << answer.status << " " << answer.body;
    if (answer.status == 202) ++queued;
    if (answer.status == 200 && json.value("duplicate", false)) ++duplicates;
    runs_named.insert(json.value("run", int64_t{0}));
  }
  EXPECT_EQ(queued, 1);
  EXPECT_EQ(duplicates, kCopies - 1);
  EXPECT_EQ(runs_named.size(), 1u) << "every answer names the one run";
  ASSERT_FALSE(wait_for_run(head_).is_null());
  EXPECT_EQ(runs().size(), 1u);
}

TEST_F(WebhookTest, PushToAnotherBranchQueuesARun) {
  work_.git({"checkout", "--quiet", "-b", "feature"});
  std::string commit = work_.commit("feature work");
  work_.git({"push", "--quiet", bare_.string(), "feature"});
  auto answer = signed_push(push_body("refs/heads/feature", commit), "delivery-feature");
  ASSERT_EQ(answer.status, 202) << answer.body;
  auto run = wait_for_run(commit);
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run.value("branch", ""), "feature");
  EXPECT_EQ(run.value("trigger", ""), "push");
}

TEST_F(WebhookTest, ShellMetacharactersInABranchAreData) {
  // A name git accepts: no spaces, but every shell operator it allows.
  const std::string branch = "x;$(touch${IFS}pwned)`touch${IFS}pwned2`|a&&b>c'q\"";
  work_.git({"checkout", "--quiet", "-b", branch});
  std::string commit = work_.commit("odd branch");
  work_.git({"push", "--quiet", bare_.string(), "HEAD:refs/heads/" + branch});
  auto answer = signed_push(push_body("refs/heads/" + branch, commit), "delivery-odd");
  ASSERT_EQ(answer.status, 202) << answer.body;
  auto run = wait_for_run(commit);
  ASSERT_FALSE(run.is_null());
  EXPECT_EQ(run.value("branch", ""), branch);
  for (const auto& place : {std::filesystem::current_path(), folder_.path(), work_.path(), bare_}) {
    EXPECT_FALSE(std::filesystem::exists(place / "pwned")) << place;
    EXPECT_FALSE(std::filesystem::exists(place / "pwned2")) << place;
  }
}

TEST_F(WebhookTest, InstalledHookQueuesARunOnGitPush) {
  setenv("SLIPWAY_TOKEN", kAdminToken, 1);  // written to the hook's 0600 token file
  auto installed = run_command({SLIPWAY_BINARY, "hook", "install", bare_.string(), "--server",
                                "http://" + server_->address()});
  unsetenv("SLIPWAY_TOKEN");
  ASSERT_TRUE(installed.ok());
  ASSERT_EQ(installed->exit_code, 0) << installed->err;
  auto token_file = std::filesystem::status(bare_ / "hooks" / "slipway-token");
  EXPECT_EQ(token_file.permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  work_.write("change.txt", "second\n");
  std::string commit = work_.commit("second");
  auto pushed = run_command({"git", "-C", work_.path().string(), "push", bare_.string(), "main"});
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(pushed->exit_code, 0) << pushed->err;
  EXPECT_NE(pushed->err.find("queued as run #"), std::string::npos) << pushed->err;
  auto run = wait_for_run(commit);
  ASSERT_FALSE(run.is_null()) << server_->log();
  EXPECT_EQ(run.value("branch", ""), "main");
}

TEST_F(WebhookTest, HookInstallRefusesWorkTreesAndForeignHooks) {
  auto work_tree = run_command({SLIPWAY_BINARY, "hook", "install", work_.path().string()});
  ASSERT_TRUE(work_tree.ok());
  EXPECT_EQ(work_tree->exit_code, 2);
  EXPECT_NE(work_tree->err.find("not a bare repository"), std::string::npos) << work_tree->err;

  std::ofstream(bare_ / "hooks" / "post-receive") << "#!/bin/sh\necho theirs\n";
  std::filesystem::permissions(bare_ / "hooks" / "post-receive", std::filesystem::perms::owner_all);
  auto refused = run_command({SLIPWAY_BINARY, "hook", "install", bare_.string()});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->exit_code, 2);
  EXPECT_NE(refused->err.find("--chain"), std::string::npos) << refused->err;

  auto chained = run_command({SLIPWAY_BINARY, "hook", "install", bare_.string(), "--chain", "--server",
                              "http://" + server_->address(), "--repository", "demo"});
  ASSERT_TRUE(chained.ok());
  EXPECT_EQ(chained->exit_code, 0) << chained->err;
  EXPECT_TRUE(std::filesystem::exists(bare_ / "hooks" / "post-receive.chained"));
  // The old hook still runs; with no token the server refuses, and the push still succeeds.
  work_.write("change.txt", "third\n");
  work_.commit("third");
  auto pushed = run_command({"git", "-C", work_.path().string(), "push", bare_.string(), "main"});
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(pushed->exit_code, 0) << pushed->err;
  EXPECT_NE(pushed->err.find("theirs"), std::string::npos) << pushed->err;
  EXPECT_NE(pushed->err.find("could not notify"), std::string::npos) << pushed->err;
}

}  // namespace
}  // namespace slipway
