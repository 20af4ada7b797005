// Commit statuses back to the forge through a real `slipway serve`. The forge's API cannot run
// here, so a recording HTTP server (tests/support/chat_receiver.h records every request) stands
// in, and the test asserts what each forge documents: GitHub `POST /repos/{owner}/{repo}/
// statuses/{sha}` with a Bearer token, Gitea the same path with `Authorization: token`, GitLab
// `POST /projects/{url-encoded id}/statuses/{sha}` with PRIVATE-TOKEN and its own state names;
// bodies and their order (pending when queued, running, the outcome). The forge down for a
// while, or the server restarted meanwhile: every status still arrives, in order, and the run
// was not held up.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/chat_receiver.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChatReceiver;
using testing::ReceivedRequest;
using testing::ScratchRepository;
using testing::ServerProcess;

constexpr const char* kAdminToken = "forge-status-test-admin-token-0123456789";
constexpr const char* kApiToken = "forge-api-token-0123456789";

class ForgeStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: 'test ! -f broken'\n");
    head_ = work_.commit("first");
    std::string api = forge_.url().substr(0, forge_.url().size() - 5);  // without "/hook"
    library_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: 'true'\npublish:\n  tag: { bump: patch }\n");
    library_.commit("first");
    std::ofstream(folder_.path() / "slipway.yml")
        << "executor: host\npublic_url: https://ci.example.com/\n"
        << "environments:\n  staging:\n    publish: manual\n    notify: [ { webhook: CHAT_URL } ]\nrepositories:\n"
        << "  - { name: lib, url: " << library_.path().string() << ", poll_interval: 0s,\n"
        << "      status: { provider: github, api: '" << api << "', token: FORGE_API_TOKEN, project: acme/lib } }\n"
        << "  - { name: web, url: " << work_.path().string() << ", poll_interval: 0s,\n"
        << "      status: { provider: github, api: '" << api << "', token: FORGE_API_TOKEN, project: acme/web } }\n"
        << "  - { name: tea, url: " << work_.path().string() << ", poll_interval: 0s,\n"
        << "      status: { provider: gitea, api: '" << api << "/api/v1', token: FORGE_API_TOKEN, project: acme/tea } }\n"
        << "  - { name: lab, url: " << work_.path().string() << ", poll_interval: 0s,\n"
        << "      status: { provider: gitlab, api: '" << api << "/api/v4', token: FORGE_API_TOKEN, project: acme/lab } }\n";
    std::filesystem::create_directories(data());
    auto set = testing::set_secret_in(data(), {"--server-only", "FORGE_API_TOKEN"}, kApiToken);
    ASSERT_EQ(set.exit_code, 0) << set.err;
    set = testing::set_secret_in(data(), {"*", "staging", "CHAT_URL"}, chat_.url());
    ASSERT_EQ(set.exit_code, 0) << set.err;
    start();
  }

  std::filesystem::path data() const { return folder_.path() / "data"; }

  void start() {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  json call(const std::string& method, const std::string& target) {
    auto answer = testing::http_request(server_->address(), method, target,
                                        {{"Authorization", std::string("Bearer ") + kAdminToken}}, "");
    return json::parse(answer.body, nullptr, false);
  }

  json finished_run(const std::string& repository, const std::string& body = "") {
    auto triggered = testing::http_request(server_->address(), "POST", "/api/v1/repositories/" + repository + "/trigger",
                                           {{"Authorization", std::string("Bearer ") + kAdminToken}}, body);
    int64_t id = json::parse(triggered.body, nullptr, false).value("id", int64_t{0});
    json run;
    for (int i = 0; i < 300; ++i) {
      run = call("GET", "/api/v1/runs/" + std::to_string(id));
      std::string status = run.is_object() ? run.value("status", "") : "";
      if (status != "queued" && status != "running") break;
      std::this_thread::sleep_for(100ms);
    }
    return run;
  }

  // The delivered (answered 2xx) requests, in order.
  std::vector<ReceivedRequest> delivered() const {
    std::vector<ReceivedRequest> answered;
    for (const auto& request : forge_.messages()) {
      if (request.status >= 200 && request.status < 300) answered.push_back(request);
    }
    return answered;
  }

  bool wait_for_delivered(size_t count, std::chrono::seconds timeout = 30s) {
    for (auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
      if (delivered().size() >= count) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  ChatReceiver forge_;
  ChatReceiver chat_;
  ScratchRepository work_;
  ScratchRepository library_;
  TemporaryDirectory folder_{"slipway-forge-status"};
  std::string head_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ForgeStatusTest, GitHubGetsPendingRunningAndTheOutcomeInOrder) {
  json run = finished_run("web");
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2);
  ASSERT_TRUE(wait_for_delivered(3)) << forge_.messages().size() << "\n" << server_->log();
  auto requests = delivered();
  std::string link = "https://ci.example.com/#/runs/" + std::to_string(run.value("id", 0));
  std::vector<std::pair<std::string, std::string>> expected = {{"pending", "queued"}, {"pending", "running"}, {"success", "passed"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const ReceivedRequest& request = requests[i];
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/repos/acme/web/statuses/" + head_);
    EXPECT_EQ(request.headers.at("authorization"), std::string("Bearer ") + kApiToken);
    EXPECT_EQ(request.headers.at("accept"), "application/vnd.github+json");
    EXPECT_EQ(request.headers.at("x-github-api-version"), "2022-11-28");
    json body = json::parse(request.body);
    EXPECT_EQ(body.value("state", ""), expected[i].first) << request.body;
    EXPECT_EQ(body.value("description", ""), expected[i].second) << request.body;
    EXPECT_EQ(body.value("context", ""), "slipway/test");
    EXPECT_EQ(body.value("target_url", ""), link);
  }
  // Visible to people: the outbox, /metrics, events. (The forge has answered; the sender marks
  // the row delivered a moment later.)
  json outbox;
  for (int i = 0; i < 100; ++i) {
    outbox = call("GET", "/api/v1/outbox");
    if (outbox["channels"].size() == 1 && outbox["channels"][0].value("delivered", 0) == 3) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(outbox["channels"].size(), 1u) << outbox.dump();
  EXPECT_EQ(outbox["channels"][0].value("delivered", 0), 3);
  auto metrics = testing::http_request(server_->address(), "GET", "/metrics",
                                       {{"Authorization", std::string("Bearer ") + kAdminToken}});
  EXPECT_NE(metrics.body.find("slipway_outbox_items{channel=\"status:web\",state=\"delivered\"} 3"), std::string::npos)
      << metrics.body;
  json events = call("GET", "/api/v1/events?limit=100");
  EXPECT_NE(events.dump().find("status.delivered"), std::string::npos);
}

TEST_F(ForgeStatusTest, GiteaAndGitLabEachGetTheirOwnDialect) {
  work_.write("broken", "x\n");
  std::string failing = work_.commit("broken");
  ASSERT_EQ(finished_run("tea").value("status", ""), "failed");
  ASSERT_TRUE(wait_for_delivered(3)) << server_->log();
  auto gitea = delivered();
  EXPECT_EQ(gitea[2].path, "/api/v1/repos/acme/tea/statuses/" + failing);
  EXPECT_EQ(gitea[2].headers.at("authorization"), std::string("token ") + kApiToken);
  json outcome = json::parse(gitea[2].body);
  EXPECT_EQ(outcome.value("state", ""), "failure") << gitea[2].body;
  EXPECT_FALSE(outcome.value("description", "").empty());
  EXPECT_EQ(json::parse(gitea[1].body).value("state", ""), "pending") << "Gitea has no running state";

  ASSERT_EQ(finished_run("lab").value("status", ""), "failed");
  ASSERT_TRUE(wait_for_delivered(6)) << server_->log();
  auto gitlab = delivered();
  EXPECT_EQ(gitlab[3].path, "/api/v4/projects/acme%2Flab/statuses/" + failing);
  EXPECT_EQ(gitlab[3].headers.at("private-token"), kApiToken);
  EXPECT_EQ(gitlab[3].headers.count("authorization"), 0u);
  EXPECT_EQ(json::parse(gitlab[3].body).value("name", ""), "slipway/test");
  EXPECT_EQ(json::parse(gitlab[4].body).value("state", ""), "running");
  EXPECT_EQ(json::parse(gitlab[5].body).value("state", ""), "failed");
}

TEST_F(ForgeStatusTest, AForgeDownAndAServerRestartLoseNothing) {
  forge_.fail_next(3, 503);
  json run = finished_run("web");
  EXPECT_EQ(run.value("status", ""), "passed") << "the run does not wait for the forge";
  // Restarted while the first status waits for its retry: the next server delivers it all.
  ASSERT_TRUE(forge_.wait_for(1, 10s));
  server_->stop();
  start();
  ASSERT_TRUE(wait_for_delivered(3, 60s)) << forge_.messages().size() << "\n" << server_->log();
  auto requests = delivered();
  ASSERT_EQ(requests.size(), 3u) << "each status exactly once";
  EXPECT_EQ(json::parse(requests[0].body).value("description", ""), "queued");
  EXPECT_EQ(json::parse(requests[1].body).value("description", ""), "running");
  EXPECT_EQ(json::parse(requests[2].body).value("state", ""), "success");
  auto status = testing::run_with_input({SLIPWAY_BINARY, "notify", "status", "--server", "http://" + server_->address()},
                                        "", {{"SLIPWAY_TOKEN", std::string(kAdminToken)}});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("status:web"), std::string::npos) << status.out;
}

// A publish job gets its own context, pending while it runs; the chat channel hears of the
// publish through the same outbox: down for a while and the server restarted meanwhile, it
// still gets its notice exactly once, as the forge gets every status.
TEST_F(ForgeStatusTest, APublishJobHasItsOwnStatusAndChatIsToldThroughTheSameOutbox) {
  chat_.fail_next(2, 503);
  json run = finished_run("lib", R"({"environment": "staging"})");
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2);
  ASSERT_TRUE(chat_.wait_for(1, 10s));
  server_->stop();
  start();
  ASSERT_TRUE(wait_for_delivered(5)) << forge_.messages().size() << "\n" << server_->log();
  std::vector<std::string> seen;
  for (const ReceivedRequest& request : delivered()) {
    json body = json::parse(request.body);
    seen.push_back(body.value("context", "") + " " + body.value("state", "") + " " + body.value("description", ""));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"slipway/test pending queued", "slipway/test pending running",
                                             "slipway/publish:staging pending running", "slipway/test success passed",
                                             "slipway/publish:staging success passed"}));
  for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
    if (chat_.messages().size() >= 3) break;
    std::this_thread::sleep_for(50ms);
  }
  auto notices = chat_.messages();
  ASSERT_EQ(notices.size(), 3u) << "two refusals, then delivered once";
  EXPECT_EQ(notices[2].status, 200);
  EXPECT_EQ(json::parse(notices[2].body).value("event", ""), "publish.done");
  json outbox = call("GET", "/api/v1/outbox");
  EXPECT_NE(outbox.dump().find("chat:staging/CHAT_URL"), std::string::npos) << outbox.dump();
  json events;
  for (int i = 0; i < 100; ++i) {  // recorded once the sender has seen the channel's answer
    events = call("GET", "/api/v1/events?limit=200");
    if (events.dump().find("notice.delivered") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(events.dump().find("notice.delivered"), std::string::npos);
}

}  // namespace
}  // namespace slipway
