// Chat notices through the durable outbox (OutboxWorker with the chat feeder and kind) against
// real local receivers: the events of the log — a failed run, a publish done, a deployment step,
// task definitions moved, a schedule that did not start — reach the channels of the environments
// they concern, with URLs from the secret store; an environment without `notify:`, or whose
// secret is unset, sends nothing and holds nothing up; a secret quoted in a notice leaves
// masked; a channel that is down, or a restart meanwhile, loses nothing and keeps the order; a
// channel that hangs holds up only itself; a notice is given up after `retry_for`, as an event
// that never shows the channel's URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "server/chat_notices.h"
#include "store/events.h"
#include "store/master_key.h"
#include "store/outbox.h"
#include "store/secret_store.h"
#include "store/task_definitions.h"
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
  void finish_run(RunStatus run_status, RunStatus job_status) {
    RunRecord run;
    run.repository = "hello-app";
    run.commit = std::string(40, 'a');
    run.branch = "main";
    run.trigger = "push";
    run.status = run_status;
    run.reason = run_status == RunStatus::failed ? "suite unit failed" : "";
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

  // Deployment of hello-app to `environment`, then each (state, message, reason) as a transition.
  int64_t deploy(const std::string& environment, const std::vector<std::array<std::string, 3>>& steps) {
    DeploymentRecord deployment = production_deployment(0, "");
    deployment.environment = environment;
    auto id = create_deployment(*store_, deployment, "queued");
    EXPECT_TRUE(id) << id.error().message;
    for (const auto& [state, message, reason] : steps) {
      DeploymentTransition transition{*deployment_state_from_text(state), message};
      transition.reason = reason;
      EXPECT_TRUE(record_deployment_transition(*store_, *id, transition).ok());
    }
    return *id;
  }

  std::unique_ptr<OutboxWorker> start_worker(Milliseconds retry_for = std::chrono::hours(1)) {
    OutboxWorkerOptions options;
    options.database = database();
    options.feeders = {chat_notice_feeder(config_, key_)};
    options.kinds = {chat_notice_kind(config_, key_)};
    options.retry_for = retry_for;
    options.poll_interval = Milliseconds(10);
    options.max_backoff = Milliseconds(200);
    options.request_timeout = Milliseconds(10'000);
    auto worker = std::make_unique<OutboxWorker>(std::move(options));
    EXPECT_TRUE(worker->start().ok());
    return worker;
  }

  // Waits until the outbox holds rows and none is pending.
  bool drained(std::chrono::seconds timeout = 20s) {
    for (auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
      auto counts = count_outbox(*store_);
      bool pending = !counts || counts->empty();
      for (const OutboxCount& count : counts ? *counts : std::vector<OutboxCount>{}) pending |= count.state == OutboxState::pending;
      if (!pending) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  nlohmann::json last_webhook() {
    auto messages = webhook_.messages();
    return messages.empty() ? nlohmann::json() : nlohmann::json::parse(messages.back().body, nullptr, false);
  }

  std::vector<std::string> webhook_events(bool answered_only = true) {
    std::vector<std::string> events;
    for (const auto& message : webhook_.messages()) {
      if (answered_only && message.status != 200) continue;
      events.push_back(nlohmann::json::parse(message.body, nullptr, false).value("event", ""));
    }
    return events;
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
  auto worker = start_worker();
  finish_run(RunStatus::failed, RunStatus::skipped);
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
  ASSERT_TRUE(drained());
  EXPECT_EQ(webhook_.messages().size(), 1u);
  auto counts = count_outbox(*store_);
  ASSERT_TRUE(counts && counts->size() == 2) << "one channel per notify target";
  EXPECT_EQ((*counts)[0].channel, "chat:production/OPS_URL");
  EXPECT_EQ((*counts)[1].channel, "chat:production/SLACK_URL");
}

TEST_F(ChatNoticesTest, WithAPublicUrlTheLinkIsOnePeopleCanFollow) {
  config_.public_url = "https://ci.example.com";
  auto worker = start_worker();
  finish_run(RunStatus::failed, RunStatus::skipped);
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  EXPECT_EQ(last_webhook().value("link", ""), "https://ci.example.com/#/runs/" + std::to_string(run_id_));
}

TEST_F(ChatNoticesTest, APublishDoneIsToldAndOldEventsAreNotRepeated) {
  finish_run(RunStatus::failed, RunStatus::skipped);  // before the first start: history, not news
  auto worker = start_worker();
  finish_run(RunStatus::passed, RunStatus::passed);
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  ASSERT_TRUE(drained());
  ASSERT_EQ(webhook_.messages().size(), 1u);
  auto body = last_webhook();
  EXPECT_EQ(body.value("event", ""), "publish.done");
  EXPECT_NE(body.value("title", "").find("published aaaaaaaaaaaa to production"), std::string::npos) << body.dump();
}

TEST_F(ChatNoticesTest, ADeploymentStepBecomesOneNoticeWithItsReason) {
  auto worker = start_worker();
  std::string why = "health check failed before the switch: unhealthy: 2 consecutive checks failed (503, 503)";
  int64_t id = deploy("production", {{"rolled_back", "traffic on #6 (v1); green removed", why}});
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  auto body = last_webhook();
  EXPECT_EQ(body.value("event", ""), "deployment.rolled_back");
  EXPECT_EQ(body.value("severity", ""), "failure");
  EXPECT_EQ(body.value("deployment_id", 0), id);
  EXPECT_NE(body.value("title", "").find("hello-app → production: rolled back (3f2a1c9e0b4d)"), std::string::npos)
      << body.dump();
  EXPECT_NE(body.dump().find("503, 503"), std::string::npos) << "the reason is in the notice";

  // Staging has no channels: a step there sends nothing.
  deploy("staging", {{"starting", "starting", ""}});
  ASSERT_TRUE(drained());
  EXPECT_EQ(webhook_.messages().size(), 1u);
}

TEST_F(ChatNoticesTest, TaskDefinitionsMovedAndAScheduleThatDidNotStartAreTold) {
  auto worker = start_worker();
  TaskRevisionRecord revision;
  revision.environment = "production";
  revision.task = "orders-daily";
  revision.repository = "orders-etl";
  revision.image = "127.0.0.1:5000/prod/orders-etl";
  revision.digest = "sha256:" + std::string(64, 'c');
  revision.command = {"python", "run.py"};
  revision.reason = "image pushed";
  ASSERT_TRUE(register_task_revisions(*store_, {revision}, 3, ""));
  ScheduleConfig schedule{"nightly", "orders-daily", "production", "0 3 * * *", 0};
  ASSERT_TRUE(append_event(*store_, schedule_failed_event(schedule, "secret DB_URL is not set")));
  ASSERT_TRUE(webhook_.wait_for(2, 10s));
  auto messages = webhook_.messages();
  auto tasks = nlohmann::json::parse(messages[0].body, nullptr, false);
  EXPECT_EQ(tasks.value("event", ""), "tasks.revised");
  EXPECT_NE(tasks.value("text", "").find("orders-daily r1"), std::string::npos) << messages[0].body;
  EXPECT_NE(tasks.dump().find("127.0.0.1:5000/prod/orders-etl@sha256:ccc"), std::string::npos) << messages[0].body;
  auto failed = nlohmann::json::parse(messages[1].body, nullptr, false);
  EXPECT_EQ(failed.value("event", ""), "schedule.failed");
  EXPECT_EQ(failed.value("text", ""), "secret DB_URL is not set");
}

// A reason or step that quotes a secret (as a command's output might, plain or encoded) reaches
// chat masked: the notice is masked with every secret the repository has in that environment.
TEST_F(ChatNoticesTest, ASecretInAReasonOrStepLeavesMaskedInEveryForm) {
  SecretStore secrets(*store_, key_);
  ASSERT_TRUE(secrets.set("hello-app", "production", "API_KEY", "Sup3r\"Secret/Key+Value").ok());
  auto worker = start_worker();
  deploy("production", {{"failed", "base64 U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ==",
                         "deploy.verify exited with 1: plain Sup3r\"Secret/Key+Value url Sup3r%22Secret%2FKey%2BValue"}});
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  ASSERT_TRUE(slack_.wait_for(1, 10s));
  for (const std::string& body : {webhook_.messages().back().body, slack_.messages().back().body}) {
    EXPECT_NE(body.find("plain ***"), std::string::npos) << body;
    EXPECT_NE(body.find("url ***"), std::string::npos) << body;
    EXPECT_NE(body.find("base64 ***"), std::string::npos) << body;
    EXPECT_EQ(body.find("Sup3r"), std::string::npos) << body;
    EXPECT_EQ(body.find("U3VwM3"), std::string::npos) << body;
  }
  auto stored = list_outbox(*store_, OutboxState::delivered, 10);
  ASSERT_TRUE(stored);
  for (const OutboxItem& item : *stored) EXPECT_EQ(item.payload.find("Sup3r"), std::string::npos) << "stored masked";
}

TEST_F(ChatNoticesTest, AnUnsetChannelSecretSendsNothingAndBlocksNothing) {
  config_.environments[0].notify = {{"webhook", "NOT_SET_ANYWHERE"}};
  auto worker = start_worker();
  deploy("staging", {{"starting", "starting", ""}});
  deploy("production", {{"starting", "starting", ""}});
  ASSERT_TRUE(webhook_.wait_for(1, 10s)) << "production's notice is not held up";
  ASSERT_TRUE(drained());
  auto counts = count_outbox(*store_);
  ASSERT_TRUE(counts);
  for (const OutboxCount& count : *counts) EXPECT_EQ(count.channel.find("NOT_SET"), std::string::npos);
}

// The channel answers 503 three times, and the server stops meanwhile: the next one delivers
// every notice exactly once, in the order of the steps.
TEST_F(ChatNoticesTest, AChannelDownAndARestartLoseNothingAndKeepTheOrder) {
  webhook_.fail_next(3, 503);
  auto worker = start_worker();
  deploy("production", {{"starting", "starting", ""}, {"health_checking", "green running", ""},
                        {"switching", "green healthy", ""}});
  ASSERT_TRUE(webhook_.wait_for(2, 10s));
  worker->stop();
  worker = start_worker();
  ASSERT_TRUE(drained());
  EXPECT_EQ(webhook_events(), (std::vector<std::string>{"deployment.starting", "deployment.health_checking",
                                                         "deployment.switching"}));
  auto all = webhook_events(false);
  EXPECT_EQ(std::count(all.begin(), all.end(), "deployment.starting"), 4) << "three refusals, then delivered";
}

// One channel that takes long to answer does not hold up another.
TEST_F(ChatNoticesTest, AChannelThatHangsHoldsUpOnlyItself) {
  slack_.set_delay(3s);
  auto worker = start_worker();
  deploy("production", {{"starting", "starting", ""}});
  ASSERT_TRUE(webhook_.wait_for(1, 10s));
  EXPECT_TRUE(slack_.messages().empty()) << "slack has not answered yet, and the webhook got its notice";
  // Slack is a target too: its notice arrives once its answer comes.
  EXPECT_TRUE(slack_.wait_for(1, 10s));
}

// Given up after `retry_for`: the row is failed, a notice.failed event says why, and neither
// says the channel's URL (it carries the webhook's token).
TEST_F(ChatNoticesTest, ANoticeIsGivenUpAfterRetryForWithoutShowingTheUrl) {
  std::string url = webhook_.url() + "/T0KEN-in-the-path";
  ASSERT_TRUE(SecretStore(*store_, key_).set("*", "production", "OPS_URL", url).ok());
  config_.environments[1].notify = {{"webhook", "OPS_URL"}};
  webhook_.fail_next(1000, 500);
  auto worker = start_worker(Milliseconds(300));
  deploy("production", {{"starting", "starting", ""}});
  ASSERT_TRUE(drained());
  auto failed = list_outbox(*store_, OutboxState::failed, 10);
  ASSERT_TRUE(failed && failed->size() == 1);
  EXPECT_NE((*failed)[0].last_error.find("HTTP 500"), std::string::npos) << (*failed)[0].last_error;
  auto events = list_events(*store_, 0, 100);
  ASSERT_TRUE(events);
  std::string told;
  for (const EventRecord& event : *events) {
    if (event.kind == "notice.failed") told = event.payload;
  }
  EXPECT_NE(told.find("deployment.starting"), std::string::npos) << told;
  EXPECT_EQ(told.find("T0KEN"), std::string::npos) << told;
  EXPECT_EQ((*failed)[0].last_error.find("T0KEN"), std::string::npos);
}

TEST(DeploymentNotice, TitlesSayWhatHappenedToWhichVersion) {
  DeploymentRecord deployment;
  deployment.id = 3;
  deployment.application = "hello-app";
  deployment.environment = "production";
  deployment.digest = "sha256:0123456789abcdef";
  ChatNotice switched = deployment_notice(deployment, {DeploymentState::baking, "traffic switched to #3", 0});
  EXPECT_EQ(switched.title, "hello-app → production: traffic switched (0123456789ab)");
  EXPECT_EQ(switched.event, "deployment.baking");
  EXPECT_EQ(switched.severity, "info");
  deployment.kind = "rollback";
  ChatNotice back = deployment_notice(deployment, {DeploymentState::succeeded, "#2 live again", 0});
  EXPECT_EQ(back.title, "hello-app → production: rolled back to this version (0123456789ab)");
  EXPECT_EQ(back.severity, "success");
}

}  // namespace
}  // namespace slipway
