// The deployments and deployment_steps tables on a real SQLite file: a deployment is created with
// its first step and "deployment.queued" event, each transition adds a step and a
// "deployment.<state>" event, listing filters and pages newest first, the live deployment is the
// newest succeeded one, and image pushes are marked handled (migration 5 keeps older pushes).
#include "store/deployments.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/events.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace slipway {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'b');

DeploymentRecord sample_deployment(std::string application = "hello-app", std::string environment = "prod") {
  DeploymentRecord d;
  d.application = std::move(application);
  d.environment = std::move(environment);
  d.image = "127.0.0.1:5000/prod/hello-app@" + kDigest;
  d.digest = kDigest;
  d.tag = "v1";
  d.settings = R"({"health":{"path":"/healthz"}})";
  return d;
}

ImagePushRecord sample_push(std::string event_id, int64_t received_ms, std::string repository = "prod/hello-app") {
  return ImagePushRecord{std::move(event_id), "127.0.0.1:5000", std::move(repository), "v1", kDigest,
                         "application/vnd.oci.image.manifest.v1+json", received_ms};
}

class DeploymentsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(file_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  int64_t create(const DeploymentRecord& d, const std::string& handled_push = "") {
    auto id = create_deployment(*store_, d, "queued by a push", handled_push);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  void transition(int64_t id, DeploymentTransition t) {
    Status recorded = record_deployment_transition(*store_, id, t);
    EXPECT_TRUE(recorded) << recorded.error().message;
  }

  void finish(int64_t id, DeploymentState outcome) {
    DeploymentTransition t;
    t.state = outcome;
    t.outcome = outcome;
    transition(id, t);
  }

  DeploymentRecord find(int64_t id) {
    auto found = find_deployment(*store_, id);
    EXPECT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found && found->has_value());
    return found && found->has_value() ? **found : DeploymentRecord{};
  }

  std::vector<int64_t> listed_ids(const DeploymentFilter& filter) {
    auto listed = list_deployments(*store_, filter);
    EXPECT_TRUE(listed) << listed.error().message;
    std::vector<int64_t> ids;
    if (listed) for (const auto& d : *listed) ids.push_back(d.id);
    return ids;
  }

  std::vector<std::string> unhandled_ids() {
    auto pushes = unhandled_image_pushes(*store_, 100);
    EXPECT_TRUE(pushes) << pushes.error().message;
    std::vector<std::string> ids;
    if (pushes) for (const auto& push : *pushes) ids.push_back(push.event_id);
    return ids;
  }

  std::vector<EventRecord> events() {
    auto listed = list_events(*store_, 0, 100);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? *listed : std::vector<EventRecord>{};
  }

  TemporaryDirectory directory_{"slipway-deployments"};
  std::filesystem::path file_ = directory_.path() / "slipway.db";
  std::unique_ptr<Store> store_;
};

TEST_F(DeploymentsStoreTest, CreateStoresTheRowItsFirstStepAndAQueuedEvent) {
  int64_t id = create(sample_deployment());
  ASSERT_GT(id, 0);

  DeploymentRecord d = find(id);
  EXPECT_EQ(d.application, "hello-app");
  EXPECT_EQ(d.environment, "prod");
  EXPECT_EQ(d.kind, "deploy");
  EXPECT_EQ(d.image, "127.0.0.1:5000/prod/hello-app@" + kDigest);
  EXPECT_EQ(d.digest, kDigest);
  EXPECT_EQ(d.tag, "v1");
  EXPECT_EQ(d.state, DeploymentState::queued);
  EXPECT_EQ(d.outcome, std::nullopt);
  EXPECT_EQ(d.previous_id, 0);
  EXPECT_EQ(d.settings, R"({"health":{"path":"/healthz"}})");
  EXPECT_GT(d.created_ms, 1'600'000'000'000);
  EXPECT_EQ(d.updated_ms, d.created_ms);
  EXPECT_EQ(d.finished_ms, 0);
  ASSERT_EQ(d.steps.size(), 1u);
  EXPECT_EQ(d.steps[0].state, DeploymentState::queued);
  EXPECT_EQ(d.steps[0].message, "queued by a push");

  auto logged = events();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].kind, "deployment.queued");
  EXPECT_EQ(logged[0].repository, "hello-app");
  auto payload = nlohmann::json::parse(logged[0].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << logged[0].payload;
  EXPECT_EQ(payload.value("deployment", int64_t{0}), id);
  EXPECT_EQ(payload.value("environment", ""), "prod");
  EXPECT_EQ(payload.value("digest", ""), kDigest);
  EXPECT_EQ(payload.value("tag", ""), "v1");
  EXPECT_EQ(payload.value("kind", ""), "deploy");
  EXPECT_EQ(payload.value("state", ""), "queued");
}

TEST_F(DeploymentsStoreTest, TransitionsAddStepsInOrderAndEventsOfTheirState) {
  int64_t previous = create(sample_deployment());
  int64_t id = create(sample_deployment());

  DeploymentTransition starting;
  starting.state = DeploymentState::starting;
  starting.message = "starting green";
  starting.slot = "green";
  starting.port = 20001;
  starting.container = "slipway-hello-app-prod-2";
  starting.container_state = ContainerState::running;
  transition(id, starting);

  DeploymentTransition switching;
  switching.state = DeploymentState::switching;
  switching.message = "green healthy: 3 checks passed";
  switching.previous_id = previous;
  transition(id, switching);

  DeploymentRecord d = find(id);
  EXPECT_EQ(d.state, DeploymentState::switching);
  EXPECT_EQ(d.slot, "green");  // empty fields in the second transition left these alone
  EXPECT_EQ(d.port, 20001);
  EXPECT_EQ(d.container, "slipway-hello-app-prod-2");
  EXPECT_EQ(d.container_state, ContainerState::running);
  EXPECT_EQ(d.previous_id, previous);
  EXPECT_EQ(d.outcome, std::nullopt);
  EXPECT_EQ(d.finished_ms, 0);
  std::vector<std::string> states;
  for (const auto& step : d.steps) states.push_back(std::string(to_text(step.state)));
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "starting", "switching"}));
  EXPECT_EQ(d.steps[2].message, "green healthy: 3 checks passed");

  auto logged = events();
  ASSERT_EQ(logged.size(), 4u);
  EXPECT_EQ(logged[2].kind, "deployment.starting");
  EXPECT_EQ(logged[3].kind, "deployment.switching");
  auto payload = nlohmann::json::parse(logged[3].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << logged[3].payload;
  EXPECT_EQ(payload.value("deployment", int64_t{0}), id);
  EXPECT_EQ(payload.value("application", ""), "hello-app");
  EXPECT_EQ(payload.value("state", ""), "switching");
  EXPECT_EQ(payload.value("message", ""), "green healthy: 3 checks passed");
}

TEST_F(DeploymentsStoreTest, RecordingTheSameStateTwiceIsAllowed) {
  int64_t id = create(sample_deployment());
  DeploymentTransition draining;
  draining.state = DeploymentState::draining;
  draining.message = "draining blue";
  transition(id, draining);
  transition(id, draining);  // re-recorded after a restart
  DeploymentRecord d = find(id);
  EXPECT_EQ(d.state, DeploymentState::draining);
  EXPECT_EQ(d.steps.size(), 3u);
}

TEST_F(DeploymentsStoreTest, AnOutcomeSetsFinishedTimeOnce) {
  int64_t id = create(sample_deployment());
  DeploymentTransition failed;
  failed.state = DeploymentState::failed;
  failed.outcome = DeploymentState::failed;
  failed.reason = "green never became healthy";
  transition(id, failed);

  DeploymentRecord d = find(id);
  EXPECT_EQ(d.outcome, DeploymentState::failed);
  EXPECT_EQ(d.reason, "green never became healthy");
  EXPECT_GE(d.finished_ms, d.created_ms);
  EXPECT_GT(d.finished_ms, 0);
  EXPECT_GE(d.updated_ms, d.created_ms);

  auto logged = events();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[1].kind, "deployment.failed");
  auto payload = nlohmann::json::parse(logged[1].payload, nullptr, false);
  EXPECT_EQ(payload.value("outcome", ""), "failed");
  EXPECT_EQ(payload.value("reason", ""), "green never became healthy");
}

TEST_F(DeploymentsStoreTest, UnknownIdsAreErrors) {
  DeploymentTransition starting;
  starting.state = DeploymentState::starting;
  Status recorded = record_deployment_transition(*store_, 42, starting);
  ASSERT_FALSE(recorded);
  EXPECT_NE(recorded.error().message.find("no deployment 42"), std::string::npos) << recorded.error().message;
  EXPECT_TRUE(events().empty());  // nothing half-written

  EXPECT_FALSE(set_deployment_container_state(*store_, 42, ContainerState::removed));
  auto found = find_deployment(*store_, 42);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

TEST_F(DeploymentsStoreTest, ContainerStateAloneCanBeSet) {
  int64_t id = create(sample_deployment());
  ASSERT_TRUE(set_deployment_container_state(*store_, id, ContainerState::removed));
  DeploymentRecord d = find(id);
  EXPECT_EQ(d.container_state, ContainerState::removed);
  EXPECT_EQ(d.state, DeploymentState::queued);
  EXPECT_EQ(d.steps.size(), 1u);
}

TEST_F(DeploymentsStoreTest, ListFiltersAndPagesNewestFirst) {
  int64_t a1 = create(sample_deployment("a", "prod"));
  int64_t b1 = create(sample_deployment("b", "prod"));
  int64_t a2 = create(sample_deployment("a", "staging"));
  int64_t a3 = create(sample_deployment("a", "prod"));
  finish(a1, DeploymentState::succeeded);

  EXPECT_EQ(listed_ids({}), (std::vector<int64_t>{a3, a2, b1, a1}));
  EXPECT_EQ(listed_ids({"a", "", false, 0, 50}), (std::vector<int64_t>{a3, a2, a1}));
  EXPECT_EQ(listed_ids({"a", "prod", false, 0, 50}), (std::vector<int64_t>{a3, a1}));
  EXPECT_EQ(listed_ids({"", "prod", false, 0, 50}), (std::vector<int64_t>{a3, b1, a1}));
  EXPECT_EQ(listed_ids({"a", "", true, 0, 50}), (std::vector<int64_t>{a3, a2}));
  EXPECT_EQ(listed_ids({"", "", false, a2, 50}), (std::vector<int64_t>{b1, a1}));
  EXPECT_EQ(listed_ids({"", "", false, 0, 2}), (std::vector<int64_t>{a3, a2}));

  auto listed = list_deployments(*store_, {});
  ASSERT_TRUE(listed && !listed->empty());
  EXPECT_TRUE((*listed)[0].steps.empty());  // listing does not read steps
}

TEST_F(DeploymentsStoreTest, LiveIsTheNewestSucceededDeployment) {
  auto none = live_deployment(*store_, "hello-app", "prod");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());

  int64_t first = create(sample_deployment());
  finish(first, DeploymentState::succeeded);
  int64_t second = create(sample_deployment());
  finish(second, DeploymentState::succeeded);
  int64_t rolled_back = create(sample_deployment());
  finish(rolled_back, DeploymentState::rolled_back);
  int64_t failed = create(sample_deployment());
  finish(failed, DeploymentState::failed);
  create(sample_deployment());                      // still active
  finish(create(sample_deployment("hello-app", "staging")), DeploymentState::succeeded);  // another environment

  auto live = live_deployment(*store_, "hello-app", "prod");
  ASSERT_TRUE(live) << live.error().message;
  ASSERT_TRUE(live->has_value());
  EXPECT_EQ((*live)->id, second);
  EXPECT_EQ((*live)->outcome, DeploymentState::succeeded);
}

TEST_F(DeploymentsStoreTest, CreatingWithAPushMarksItHandled) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("late", 3000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("early", 1000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("middle", 2000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("middle-2", 2000)));  // same ms: insertion order
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"early", "middle", "middle-2", "late"}));

  create(sample_deployment(), "middle");
  ASSERT_TRUE(mark_image_push_handled(*store_, "late"));
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"early", "middle-2"}));

  ASSERT_TRUE(mark_image_push_handled(*store_, "late"));  // again: no error
  create(sample_deployment(), "no-such-event");          // an unknown push is not an error
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"early", "middle-2"}));

  auto limited = unhandled_image_pushes(*store_, 1);
  ASSERT_TRUE(limited && limited->size() == 1u);
  EXPECT_EQ((*limited)[0].event_id, "early");
  EXPECT_EQ((*limited)[0].digest, kDigest);
  EXPECT_EQ((*limited)[0].received_ms, 1000);
}

TEST_F(DeploymentsStoreTest, AFailedCreateLeavesThePushUnhandled) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("push", 1000)));
  DeploymentRecord d = sample_deployment();
  d.previous_id = 999;  // no such deployment: the foreign key refuses the row
  auto id = create_deployment(*store_, d, "queued", "push");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().message.rfind("store: create deployment of hello-app to prod: ", 0), 0u)
      << id.error().message;
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"push"}));
  auto listed = list_deployments(*store_, {});
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(DeploymentsStoreTest, KnowsWhichDigestsWerePushed) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("push", 1000)));
  auto known = image_push_known(*store_, "prod/hello-app", kDigest);
  ASSERT_TRUE(known) << known.error().message;
  EXPECT_TRUE(*known);
  EXPECT_FALSE(*image_push_known(*store_, "prod/hello-app", "sha256:" + std::string(64, 'c')));
  EXPECT_FALSE(*image_push_known(*store_, "dev/hello-app", kDigest));
}

// A file written by the previous release (schema 4) with pushes in it: opening it migrates, keeps
// the pushes, and treats them as not yet handled.
TEST_F(DeploymentsStoreTest, MigratingFromSchemaFourKeepsPushesUnhandled) {
  store_.reset();
  std::filesystem::path old_file = directory_.path() / "old.db";
  {
    auto db = Database::open(old_file, 1000);
    ASSERT_TRUE(db) << db.error().message;
    for (int version = 1; version <= 4; ++version) {
      ASSERT_TRUE((*db)->execute(schema_migrations()[version - 1])) << "migration " << version;
    }
    ASSERT_TRUE((*db)->execute("PRAGMA user_version = 4"));
    ASSERT_TRUE((*db)->execute("INSERT INTO image_pushes (event_id, repository, tag, digest, received_ms) VALUES "
                               "('old-2', 'prod/hello-app', 'v2', 'sha256:2', 2000), "
                               "('old-1', 'prod/hello-app', 'v1', 'sha256:1', 1000)"));
  }
  auto opened = Store::open(old_file);
  ASSERT_TRUE(opened) << opened.error().message;
  store_ = std::move(*opened);
  EXPECT_EQ(store_->schema_version(), latest_schema_version());
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"old-1", "old-2"}));
  EXPECT_TRUE(*image_push_known(*store_, "prod/hello-app", "sha256:2"));
  EXPECT_GT(create(sample_deployment(), "old-1"), 0);
  EXPECT_EQ(unhandled_ids(), (std::vector<std::string>{"old-2"}));
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// Each state has one text, read back as itself; a text that names no state is refused.
TEST(DeploymentState, EveryStateHasOneTextAndReadsBackAsItself) {
  for (const char* text : {"queued", "starting", "health_checking", "verifying", "switching", "baking", "draining",
                           "retiring", "rolling_back", "succeeded", "rolled_back", "failed", "superseded"}) {
    auto state = deployment_state_from_text(text);
    ASSERT_TRUE(state.has_value()) << text;
    EXPECT_EQ(to_text(*state), text);
  }
  EXPECT_FALSE(deployment_state_from_text("stopping_blue").has_value());
  EXPECT_FALSE(deployment_state_from_text("").has_value());
  EXPECT_TRUE(is_before_switch(DeploymentState::verifying));
  EXPECT_FALSE(is_before_switch(DeploymentState::switching));
}

}  // namespace
}  // namespace slipway
