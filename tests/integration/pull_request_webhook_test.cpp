// Pull and merge requests into a real `slipway serve`, with the forges' documented payloads
// whole (tests/unit/fixtures/webhooks), their head pointed at this test's commits: a run tests
// the head and never publishes, records the request, gets the `test` environment's secrets —
// unless it comes from a fork, which gets none and says so; a newer push supersedes the older
// run, closing the request cancels its run; GitHub, Gitea (X-Gitea-Signature) and GitLab
// (X-Gitlab-Token) each authenticate their own way; a payload missing fields is a 400.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/webhook_signature.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::ScratchRepository;
using testing::ServerProcess;

constexpr const char* kAdminToken = "pull-request-test-admin-token-0123456789";
constexpr const char* kSecret = "pull request webhook secret";

json payload(const std::string& name) {
  auto text = read_file(std::filesystem::path(SLIPWAY_SOURCE_DIR) / "tests/unit/fixtures/webhooks" / name);
  return json::parse(text.ok() ? *text : "{}");
}

class PullRequestWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The suite passes only with the test environment's secret: a fork's run fails for lack of it.
    work_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: 'test -n \"${SHARED_SECRET:-}\" && echo ok'\n"
                                "publish:\n  tag: { bump: patch }\n");
    main_ = work_.commit("first");
    bare_ = folder_.path() / "demo.git";
    ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", work_.path().string(), bare_.string()}).ok());
    std::ofstream(folder_.path() / "slipway.yml")
        << "executor: host\nrepositories:\n"
        << "  - { name: demo, url: " << bare_.string() << ", poll_interval: 0s, webhook_secret: DEMO_WEBHOOK }\n"
        << "  - { name: merged, url: " << bare_.string() << ", poll_interval: 0s, webhook_secret: DEMO_WEBHOOK,\n"
        << "      pull_requests: { test: merge } }\n";
    std::filesystem::create_directories(data());
    set_secret({"--server-only", "DEMO_WEBHOOK"}, kSecret);
    set_secret({"demo", "test", "SHARED_SECRET"}, "the test environment's secret");
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  std::filesystem::path data() const { return folder_.path() / "data"; }

  void set_secret(const std::vector<std::string>& address, const std::string& value) {
    auto set = testing::set_secret_in(data(), address, value);
    ASSERT_EQ(set.exit_code, 0) << set.err;
  }

  // A commit on branch `branch`, published to the bare repository as the forge publishes a
  // pull request's head (refs/pull/N/head), not as a branch of it.
  std::string pull_request_commit(int number, const std::string& file, const std::string& spec = "") {
    work_.git({"checkout", "--quiet", "-B", "feature", main_});
    work_.write(file, "change\n");
    if (!spec.empty()) work_.write(".slipway.yml", spec);
    std::string sha = work_.commit("pull request change");
    work_.git({"push", "--quiet", "--force", bare_.string(), "HEAD:refs/pull/" + std::to_string(number) + "/head"});
    return sha;
  }

  // GitHub's opened payload, its head pointed at `sha`.
  json github_pull_request(const std::string& action, int number, const std::string& sha, bool fork = false) {
    json body = payload("github/pull_request.opened.json");
    body["action"] = action;
    body["number"] = number;
    body["pull_request"]["number"] = number;
    body["pull_request"]["head"]["sha"] = sha;
    body["pull_request"]["head"]["ref"] = "feature";
    if (fork) body["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World";
    return body;
  }

  HttpAnswer github(const json& body, const std::string& repository = "demo") {
    std::string text = body.dump();
    return post(text,
                {{"X-GitHub-Event", "pull_request"},
                 {"X-GitHub-Delivery", "delivery-" + std::to_string(++deliveries_)},
                 {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kSecret, text)}},
                repository);
  }

  // main moves on after the pull request branched: a commit writing `file` with `content`.
  void advance_main(const std::string& file, const std::string& content) {
    work_.git({"checkout", "--quiet", "-B", "main-next", main_});
    work_.write(file, content);
    work_.commit("main moves on");
    work_.git({"push", "--quiet", bare_.string(), "HEAD:main"});
  }

  HttpAnswer post(const std::string& body, std::map<std::string, std::string> headers,
                  const std::string& repository = "demo") {
    return testing::http_request(server_->address(), "POST", "/api/v1/webhooks/git/" + repository, headers, body);
  }

  json get(const std::string& target) {
    auto answer = testing::http_request(server_->address(), "GET", target,
                                        {{"Authorization", std::string("Bearer ") + kAdminToken}});
    return json::parse(answer.body, nullptr, false);
  }

  static int64_t run_id(const HttpAnswer& answer) {
    auto body = json::parse(answer.body, nullptr, false);
    return body.is_object() ? body.value("run", int64_t{0}) : 0;
  }

  // The run once it is no longer queued or running (or as it is after a minute).
  json finished(int64_t id) {
    json run;
    for (int i = 0; i < 600; ++i) {
      run = get("/api/v1/runs/" + std::to_string(id));
      std::string status = run.is_object() ? run.value("status", "") : "";
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(100ms);
    }
    return run;
  }

  json wait_for_status(int64_t id, const std::string& wanted) {
    json run;
    for (int i = 0; i < 300; ++i) {
      run = get("/api/v1/runs/" + std::to_string(id));
      if (run.is_object() && run.value("status", "") == wanted) break;
      std::this_thread::sleep_for(100ms);
    }
    return run;
  }

  int deliveries_ = 0;
  ScratchRepository work_;
  TemporaryDirectory folder_{"slipway-pull-requests"};
  std::filesystem::path bare_;
  std::string main_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(PullRequestWebhookTest, APullRequestIsTestedNeverPublishedAndRecorded) {
  std::string head = pull_request_commit(7, "feature.txt");
  auto answer = github(github_pull_request("opened", 7, head));
  ASSERT_EQ(answer.status, 202) << answer.body;
  json run = finished(run_id(answer));
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2) << server_->log();
  EXPECT_EQ(run.value("commit", ""), head);
  EXPECT_EQ(run.value("trigger", ""), "pull_request");
  EXPECT_EQ(run.value("branch", ""), "feature");
  ASSERT_TRUE(run.contains("pull_request")) << run.dump(2);
  const json& pull = run["pull_request"];
  EXPECT_EQ(pull.value("number", 0), 7);
  EXPECT_EQ(pull.value("title", ""), "Update the README with new information.");
  EXPECT_EQ(pull.value("author", ""), "Codertocat");
  EXPECT_EQ(pull.value("target", ""), "master");
  EXPECT_EQ(pull.value("fork", true), false);
  EXPECT_EQ(pull.value("url", ""), "https://github.com/Codertocat/Hello-World/pull/2");
  ASSERT_EQ(run["jobs"].size(), 1u) << "a pull request publishes nothing: " << run["jobs"].dump();
  EXPECT_EQ(run["jobs"][0].value("name", ""), "test");
  // The runs list filters by pull request, through the API and the CLI.
  EXPECT_EQ(get("/api/v1/runs?pull_request=7")["runs"].size(), 1u);
  EXPECT_EQ(get("/api/v1/runs?pull_request=8")["runs"].size(), 0u);
  auto listed = testing::run_with_input({SLIPWAY_BINARY, "runs", "list", "--pull-request", "7", "--json", "--server",
                                         "http://" + server_->address()},
                                        "", {{"SLIPWAY_TOKEN", std::string(kAdminToken)}});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"number\": 7"), std::string::npos) << listed.out << listed.err;
}

TEST_F(PullRequestWebhookTest, AForksPullRequestGetsNoSecretsAndSaysSo) {
  std::string head = pull_request_commit(9, "fork.txt");
  auto answer = github(github_pull_request("opened", 9, head, true));
  ASSERT_EQ(answer.status, 202) << answer.body;
  json run = finished(run_id(answer));
  EXPECT_EQ(run.value("status", ""), "failed") << "the suite needs the secret: " << run.dump(2);
  EXPECT_NE(run.value("reason", "").find("a pull request from a fork gets no secrets"), std::string::npos) << run.dump(2);
  EXPECT_EQ(run["pull_request"].value("source_repository", ""), "mallory/Hello-World");
  EXPECT_TRUE(run["pull_request"].value("fork", false));
}

TEST_F(PullRequestWebhookTest, ANewerPushSupersedesAndClosingCancels) {
  const std::string slow = "kind: library\ntest:\n  suites:\n    unit: 'sleep 60'\n";
  std::string first = pull_request_commit(11, "one.txt", slow);
  int64_t older = run_id(github(github_pull_request("opened", 11, first)));
  ASSERT_GT(older, 0);
  wait_for_status(older, "running");
  std::string second = pull_request_commit(11, "two.txt", slow);
  int64_t newer = run_id(github(github_pull_request("synchronize", 11, second)));
  ASSERT_GT(newer, 0);
  json superseded = finished(older);
  EXPECT_EQ(superseded.value("status", ""), "cancelled");
  EXPECT_EQ(superseded.value("reason", ""), "superseded by run #" + std::to_string(newer));
  wait_for_status(newer, "running");
  auto closed = github(github_pull_request("closed", 11, second));
  ASSERT_EQ(closed.status, 202) << closed.body;
  EXPECT_EQ(json::parse(closed.body).value("cancelled", 0), 1) << closed.body;
  json cancelled = finished(newer);
  EXPECT_EQ(cancelled.value("status", ""), "cancelled") << cancelled.dump(2);
  EXPECT_EQ(cancelled.value("reason", ""), "pull request #11 was closed");
}

TEST_F(PullRequestWebhookTest, GiteaSignsWithItsOwnHeader) {
  std::string head = pull_request_commit(1, "gitea.txt");
  json body = payload("gitea/pull_request.opened.json");
  body["pull_request"]["head"]["sha"] = head;
  std::string text = body.dump();
  std::map<std::string, std::string> headers = {{"X-Gitea-Event", "pull_request"},
                                                {"X-GitHub-Event", "pull_request"},
                                                {"X-Gitea-Delivery", "gitea-delivery-1"},
                                                {"X-Gitea-Signature", hmac_sha256_hex(kSecret, text)}};
  auto answer = post(text, headers);
  ASSERT_EQ(answer.status, 202) << answer.body;
  EXPECT_EQ(finished(run_id(answer)).value("status", ""), "passed");
  headers["X-Gitea-Signature"] = hmac_sha256_hex("another secret", text);
  headers["X-Gitea-Delivery"] = "gitea-delivery-2";
  EXPECT_EQ(post(text, headers).status, 401);
}

TEST_F(PullRequestWebhookTest, GitLabAuthenticatesWithItsToken) {
  std::string head = pull_request_commit(3, "gitlab.txt");
  json body = payload("gitlab/merge_request.open.json");
  body["object_attributes"]["iid"] = 3;
  body["object_attributes"]["last_commit"]["id"] = head;
  std::string text = body.dump();
  auto wrong = post(text, {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", "not the secret"}});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  auto missing = post(text, {{"X-Gitlab-Event", "Merge Request Hook"}});
  EXPECT_EQ(missing.status, 401) << missing.body;
  auto answer = post(text, {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", kSecret},
                            {"X-Gitlab-Event-UUID", "gitlab-event-1"}});
  ASSERT_EQ(answer.status, 202) << answer.body;
  json run = finished(run_id(answer));
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2);
  EXPECT_EQ(run["pull_request"].value("number", 0), 3);
  // The same delivery again is a duplicate, not a second run.
  auto again = post(text, {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", kSecret},
                           {"X-Gitlab-Event-UUID", "gitlab-event-1"}});
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(json::parse(again.body).value("duplicate", false));
}

TEST_F(PullRequestWebhookTest, TestMergeTestsThePullRequestMergedIntoItsTarget) {
  // The suite needs both sides: the request's file and one main gained after it branched.
  const std::string both = "kind: library\ntest:\n  suites:\n    unit: 'test -f feature.txt && test -f later.txt'\n";
  std::string head = pull_request_commit(21, "feature.txt", both);
  advance_main("later.txt", "main's later change\n");
  json body = github_pull_request("opened", 21, head);
  body["pull_request"]["base"]["ref"] = "main";
  json as_head = finished(run_id(github(body, "demo")));
  EXPECT_EQ(as_head.value("status", ""), "failed") << "the head alone lacks later.txt: " << as_head.dump(2);
  json merged = finished(run_id(github(body, "merged")));
  EXPECT_EQ(merged.value("status", ""), "passed") << merged.dump(2);
  EXPECT_EQ(merged.value("commit", ""), head) << "statuses belong to the head";
}

TEST_F(PullRequestWebhookTest, TestMergeWithAConflictFailsNamingTheFiles) {
  std::string head = pull_request_commit(22, "shared.txt");
  advance_main("shared.txt", "main's own version\n");
  json body = github_pull_request("opened", 22, head);
  body["pull_request"]["base"]["ref"] = "main";
  json run = finished(run_id(github(body, "merged")));
  EXPECT_EQ(run.value("status", ""), "failed");
  EXPECT_NE(run.value("reason", "").find("does not merge into 'main': conflicts in shared.txt"), std::string::npos)
      << run.dump(2);
}

TEST_F(PullRequestWebhookTest, APayloadMissingFieldsIs400NamingTheField) {
  json body = github_pull_request("opened", 5, main_);
  body["pull_request"].erase("head");
  auto answer = github(body);
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("pull_request.head.ref"), std::string::npos) << answer.body;
  EXPECT_TRUE(get("/api/v1/runs")["runs"].empty());
}

}  // namespace
}  // namespace slipway
