// ChatNotices against real local receivers: the runs' CI events (a failed run, a publish done)
// read from the event log reach the channels of the environments they concern, with URLs from
// the secret store; a deployment step becomes one notice; an environment without `notify:`, or
// whose secret is unset, sends nothing and holds nothing up; a secret quoted in a notice leaves
// masked.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "server/chat_notices.h"
#include "store/events.h"
#include "store/master_key.h"
#include "store/secret_store.h"
#include "support/chat_receiver.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::ChatReceiver;

class ChatNoticesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = load_master_key(folder_.path(), std::nullopt);
    ASSERT_TRUE(key) << key.error().message;
    key_ = *key;
    auto opened = Store::open(database());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    SecretStore secrets(*store_, key_);
    ASSERT_TRUE(secrets.set("*", "production", "OPS_URL", webhook_.url()).ok());
    ASSERT_TRUE(secrets.set("*", "production", "SLACK_URL", slack_.url()).ok());
    config_.environments = {{"staging", true, {}, {}, {}, {}},
                            {"production", true, {}, {}, {}, {{"webhook", "OPS_URL"}, {"slack", "SLACK_URL"}}}};
  }

  std::filesystem::path database() const { return folder_.path() / "slipway.db"; }

  // A finished run of hello-app with a publish job per environment, and its run.finished event.
  void finish_run(const std::string& run_status, const std::string& job_status) {
    RunRecord run;
    run.repository = "hello-app";
    run.commit = std::string(40, 'a');
    run.branch = "main";
    run.trigger = "push";
    run.status = run_status;
    run.reason = run_status == "failed" ? "suite unit failed" : "";
    auto id = store_->create_run(run);
    ASSERT_TRUE(id) << id.error().message;
    for (const char* environment : {"staging", "production"}) {
      JobRecord job;
      job.run_id = *id;
      job.name = std::string("publish:") + environment;
      job.environment = environment;
      job.status = job_status;
      ASSERT_TRUE(store_->create_job(job));
    }
    ASSERT_TRUE(append_event(*store_, {0, "run.finished", "hello-app", *id, "{}", 0}));
    run_id_ = *id;
  }

  // Deployment `id` of hello-app to production (image, digest and tag filled), with `reason`.
  static DeploymentRecord production_deployment(int64_t id, const std::string& reason) {
    DeploymentRecord deployment;
    deployment.id = id;
    deployment.application = "hello-app";
    deployment.environment = "production";
    deployment.image = "127.0.0.1:5000/prod/hello-app@sha256:" + std::string(64, 'b');
    deployment.digest = "sha256:" + std::string(64, 'b');
    deployment.tag = "3f2a1c9e0b4d";
    deployment.reason = reason;
    return deployment;
  }

  nlohmann::json last_webhook() {
    auto messages = webhook_.messages();
    return messages.empty() ? nlohmann::json() : nlohmann::json::parse(messages.back().body, nullptr, false);
  }

  TemporaryDirectory folder_{"slipway-chat-notices"};
  std::string key_;
  std::unique_ptr<Store> store_;
  ServerConfig config_;
  ChatReceiver webhook_;
  ChatReceiver slack_;
  int64_t run_id_ = 0;
};

TEST_F(ChatNoticesTest, AFailedRunIsToldToTheEnvironmentsItWouldHavePublishedTo) {
  ChatNotices notices(config_, database(), key_, NotifierOptions{.first_retry = Milliseconds(20)});
  ASSERT_TRUE(notices.start().ok());
  finish_run("failed", "skipped");
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  ASSERT_TRUE(slack_.wait_for(1, 10s));
  auto body = last_webhook();
  EXPECT_EQ(body.value("event", ""), "run.failed");
  EXPECT_EQ(body.value("severity", ""), "failure");
  EXPECT_EQ(body.value("environment", ""), "production");
  EXPECT_EQ(body.value("run_id", 0), run_id_);
  EXPECT_NE(body.value("text", "").find("suite unit failed"), std::string::npos) << body.dump();
  auto slack = nlohmann::json::parse(slack_.messages().back().body, nullptr, false);
  EXPECT_TRUE(slack["blocks"].is_array());
  // Staging has no notify list: nothing more than the one production notice per channel.
  ASSERT_TRUE(notices.notifier().flush(5s));
  EXPECT_EQ(webhook_.messages().size(), 1u);
}

TEST_F(ChatNoticesTest, WithAPublicUrlTheLinkIsOnePeopleCanFollow) {
  config_.public_url = "https://ci.example.com";
  ChatNotices notices(config_, database(), key_, NotifierOptions{.first_retry = Milliseconds(20)});
  ASSERT_TRUE(notices.start().ok());
  finish_run("failed", "skipped");
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  EXPECT_EQ(last_webhook().value("link", ""), "https://ci.example.com/#/runs/" + std::to_string(run_id_));
}

TEST_F(ChatNoticesTest, APublishDoneIsToldAndOldEventsAreNotRepeated) {
  finish_run("failed", "skipped");  // before start: history, not news
  ChatNotices notices(config_, database(), key_, NotifierOptions{.first_retry = Milliseconds(20)});
  ASSERT_TRUE(notices.start().ok());
  finish_run("passed", "passed");
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  ASSERT_TRUE(notices.notifier().flush(5s));
  ASSERT_EQ(webhook_.messages().size(), 1u);
  auto body = last_webhook();
  EXPECT_EQ(body.value("event", ""), "publish.done");
  EXPECT_NE(body.value("title", "").find("published aaaaaaaaaaaa to production"), std::string::npos) << body.dump();
}

TEST_F(ChatNoticesTest, ADeploymentStepBecomesOneNoticeWithItsReason) {
  ChatNotices notices(config_, database(), key_, NotifierOptions{.first_retry = Milliseconds(20)});
  ASSERT_TRUE(notices.start().ok());
  DeploymentRecord deployment = production_deployment(
      7, "health check failed before the switch: unhealthy: 2 consecutive checks failed (503, 503)");
  notices.deployment_step(deployment, {"rolled_back", "traffic on #6 (v1); green removed", 1'700'000'000'000});
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  auto body = last_webhook();
  EXPECT_EQ(body.value("event", ""), "deployment.rolled_back");
  EXPECT_EQ(body.value("severity", ""), "failure");
  EXPECT_EQ(body.value("deployment_id", 0), 7);
  EXPECT_NE(body.value("title", "").find("hello-app → production: rolled back (3f2a1c9e0b4d)"), std::string::npos)
      << body.dump();
  EXPECT_NE(body.dump().find("503, 503"), std::string::npos) << "the reason is in the notice";

  // Staging has no channels: a step there sends nothing.
  deployment.environment = "staging";
  notices.deployment_step(deployment, {"starting", "starting", 1'700'000'000'000});
  ASSERT_TRUE(notices.notifier().flush(5s));
  EXPECT_EQ(webhook_.messages().size(), 1u);
}

// A reason or step that quotes a secret (as a command's output might, plain or encoded) reaches
// chat masked: the notice is masked with every secret the repository has in that environment.
TEST_F(ChatNoticesTest, ASecretInAReasonOrStepLeavesMaskedInEveryForm) {
  SecretStore secrets(*store_, key_);
  ASSERT_TRUE(secrets.set("hello-app", "production", "API_KEY", "Sup3r\"Secret/Key+Value").ok());
  ChatNotices notices(config_, database(), key_, NotifierOptions{.first_retry = Milliseconds(20)});
  ASSERT_TRUE(notices.start().ok());
  DeploymentRecord deployment = production_deployment(
      8, "deploy.verify exited with 1: plain Sup3r\"Secret/Key+Value url Sup3r%22Secret%2FKey%2BValue");
  notices.deployment_step(deployment, {"failed", "base64 U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ==", 1'700'000'000'000});
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  ASSERT_TRUE(slack_.wait_for(1, 10s));
  for (const std::string& body : {webhook_.messages().back().body, slack_.messages().back().body}) {
    EXPECT_NE(body.find("plain ***"), std::string::npos) << body;
    EXPECT_NE(body.find("url ***"), std::string::npos) << body;
    EXPECT_NE(body.find("base64 ***"), std::string::npos) << body;
    EXPECT_EQ(body.find("Sup3r"), std::string::npos) << body;
    EXPECT_EQ(body.find("U3VwM3"), std::string::npos) << body;
  }
}

TEST_F(ChatNoticesTest, AnUnsetChannelSecretSendsNothingAndBlocksNothing) {
  config_.environments[0].notify = {{"webhook", "NOT_SET_ANYWHERE"}};
  ChatNotices notices(config_, database(), key_);
  ASSERT_TRUE(notices.start().ok());
  DeploymentRecord deployment;
  deployment.id = 1;
  deployment.application = "hello-app";
  deployment.environment = "staging";
  notices.deployment_step(deployment, {"starting", "starting", 0});
  ASSERT_TRUE(notices.notifier().flush(2s));
  EXPECT_EQ(notices.notifier().stats().delivered, 0);
  EXPECT_TRUE(webhook_.messages().empty());
}

TEST(DeploymentNotice, TitlesSayWhatHappenedToWhichVersion) {
  DeploymentRecord deployment;
  deployment.id = 3;
  deployment.application = "hello-app";
  deployment.environment = "production";
  deployment.digest = "sha256:0123456789abcdef";
  ChatNotice switched = deployment_notice(deployment, {"baking", "traffic switched to #3", 0});
  EXPECT_EQ(switched.title, "hello-app → production: traffic switched (0123456789ab)");
  EXPECT_EQ(switched.event, "deployment.baking");
  EXPECT_EQ(switched.severity, "info");
  deployment.kind = "rollback";
  ChatNotice back = deployment_notice(deployment, {"succeeded", "#2 live again", 0});
  EXPECT_EQ(back.title, "hello-app → production: rolled back to this version (0123456789ab)");
  EXPECT_EQ(back.severity, "success");
}

}  // namespace
}  // namespace slipway
