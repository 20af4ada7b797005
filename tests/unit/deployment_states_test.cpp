// The deployment state machine with a container runtime and a router that only remember
// (tests/support/fake_deployment_world.h), in milliseconds: every state of a blue/green
// deployment, every rollback path, and a kill at every crash point — right after each state is
// written, and right after the action before each write — followed by a restart that must end
// exactly where an uninterrupted deployment ends. The real dockerd + HAProxy runs of the same
// machine are tests/acceptance/deployment_test.cpp.
//
// A kill is simulated precisely: the deployment's `stopping` flag is raised from inside the
// observer (after a write) or from inside the fake's action (after the action), on the
// deployment's own thread, so nothing more is done or written — as in a killed process — while
// the containers and the router keep what they had, as a real Engine and HAProxy would.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/files.h"
#include "cd/deployment_controller.h"
#include "cd/deployment_run.h"
#include "store/deployments.h"
#include "store/store.h"
#include "support/fake_deployment_world.h"

namespace slipway {
namespace {

using testing::FakeContainerRuntime;
using testing::FakeDeploymentWorld;
using testing::FakeRouter;
using namespace std::chrono_literals;

const char* kApplication = "shop";
const char* kEnvironment = "production";

std::string image_of(const std::string& version) {
  return "127.0.0.1:5000/production/shop@sha256:" + std::string(64, version.back());
}

ApplicationTarget shop_target(bool test_listener) {
  ApplicationTarget target;
  target.application = kApplication;
  target.environment = kEnvironment;
  target.image_repository = "127.0.0.1:5000/production/shop";
  target.deploy.health = {"/health", Milliseconds(5), Milliseconds(500), 2, 2};
  target.deploy.bake = Milliseconds(0);
  target.deploy.drain = Milliseconds(0);
  target.deploy.retain = 1;
  target.router = {"127.0.0.1:1", test_listener ? "127.0.0.1:2" : ""};
  return target;
}

class DeploymentStates : public ::testing::Test {
 protected:
  DeploymentStates() : folder_("slipway-deployment-states") {
    options_.database = folder_.path() / "slipway.db";
    options_.routers_directory = folder_.path() / "routers";
    options_.containers = &runtime_;
    options_.resolve = [this](const std::string&, const std::string&) -> Result<ApplicationTarget> { return target_; };
    options_.make_router = [this](const HaproxyRouterSettings&) { return std::make_unique<FakeRouter>(world_); };
    options_.observe = [this](const DeploymentRecord& deployment, const DeploymentStepRecord& step) {
      if (deployment.kind == "rollback") {
        rollbacks_.push_back(deployment);
      } else {
        observed_.push_back(step.state);
      }
      if (crash_after_state_ == step.state) crash();
    };
    options_.start_timeout = Milliseconds(2000);
    options_.owner = "unit";
    auto store = Store::open(options_.database);
    EXPECT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    world_.on_call([this](const std::string& call) {
      if (crash_after_call_ && call.rfind(*crash_after_call_, 0) == 0) crash();
    });
    EXPECT_TRUE(router_.start().ok());  // as the lane does before its first deployment
  }

  // From the deployment's own thread: nothing more is done or written.
  void crash() {
    stopping_ = true;
    interrupt_ = true;
    world_.set_killed(true);
  }

  // A new deployment of `version`, recorded queued as the controller records one.
  int64_t queue(const std::string& version) {
    DeploymentRecord record;
    record.application = kApplication;
    record.environment = kEnvironment;
    record.image = image_of(version);
    record.digest = record.image.substr(record.image.find('@') + 1);
    record.tag = version;
    auto id = create_deployment(*store_, record, "image pushed as " + version);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  DeploymentRecord read(int64_t id) {
    auto found = find_deployment(*store_, id);
    EXPECT_TRUE(found.ok() && found->has_value()) << "deployment #" << id;
    return found.ok() && *found ? **found : DeploymentRecord{};
  }

  // Drives the deployment as the lane does, from what the store holds (a restart reads it back
  // the same way).
  DeploymentRecord drive(int64_t id) {
    stopping_ = interrupt_ = false;
    world_.set_killed(false);
    DeploymentRunContext context{*store_, runtime_, router_, options_, stopping_, interrupt_, superseded_};
    DeploymentRun(context, target_, read(id)).drive();
    return read(id);
  }

  int64_t deploy(const std::string& version) {
    int64_t id = queue(version);
    DeploymentRecord done = drive(id);
    EXPECT_EQ(done.outcome, DeploymentState::succeeded) << done.reason;
    return id;
  }

  // Where every successful deployment of v2 over a live v1 ends, however often it was killed.
  void expect_v2_live_and_v1_retained(int64_t v1, int64_t v2) {
    DeploymentRecord blue = read(v1), green = read(v2);
    EXPECT_EQ(green.outcome, DeploymentState::succeeded) << green.reason;
    EXPECT_EQ(green.state, DeploymentState::succeeded);
    EXPECT_EQ(green.container_state, ContainerState::running);
    EXPECT_EQ(blue.container_state, ContainerState::stopped) << "retain 1 keeps v1 for a fast rollback";
    EXPECT_EQ(world_.live_port(), green.port) << "production traffic on v2 alone";
    auto containers = world_.containers();
    ASSERT_EQ(containers.size(), 2u) << "nothing half made is left behind";
    EXPECT_EQ(containers.at(green.container).state, "running");
    EXPECT_EQ(containers.at(blue.container).state, "exited");
    EXPECT_NE(green.slot, blue.slot);
  }

  TemporaryDirectory folder_;
  FakeDeploymentWorld world_;
  FakeContainerRuntime runtime_{world_};
  FakeRouter router_{world_};
  DeploymentControllerOptions options_;
  ApplicationTarget target_ = shop_target(true);
  std::unique_ptr<Store> store_;
  std::atomic<bool> stopping_{false}, interrupt_{false}, superseded_{false};
  std::vector<DeploymentState> observed_;     // the states deployments of a new image entered
  std::vector<DeploymentRecord> rollbacks_;   // the "rollback" deployments recorded, as observed
  std::optional<DeploymentState> crash_after_state_;
  std::optional<std::string> crash_after_call_;
};

TEST_F(DeploymentStates, AFirstVersionPassesEveryStateInOrder) {
  int64_t id = queue("v1");
  DeploymentRecord done = drive(id);
  EXPECT_EQ(done.outcome, DeploymentState::succeeded) << done.reason;
  EXPECT_EQ(observed_, (std::vector<DeploymentState>{DeploymentState::starting, DeploymentState::health_checking,
                                                     DeploymentState::verifying, DeploymentState::switching,
                                                     DeploymentState::baking, DeploymentState::draining,
                                                     DeploymentState::retiring, DeploymentState::succeeded}));
  std::vector<DeploymentState> stored;
  for (const auto& step : done.steps) stored.push_back(step.state);
  EXPECT_EQ(stored.front(), DeploymentState::queued);
  EXPECT_EQ(std::vector<DeploymentState>(stored.begin() + 1, stored.end()), observed_) << "each state written once";
  EXPECT_EQ(world_.live_port(), done.port);
  EXPECT_EQ(world_.backends()[kTestBackend][done.slot].port, done.port) << "the test listener saw green first";
}

TEST_F(DeploymentStates, WithoutATestListenerVerifyingIsSkipped) {
  target_ = shop_target(false);
  DeploymentRecord done = drive(queue("v1"));
  EXPECT_EQ(done.outcome, DeploymentState::succeeded) << done.reason;
  EXPECT_EQ(std::count(observed_.begin(), observed_.end(), DeploymentState::verifying), 0);
  EXPECT_EQ(world_.backends().count(kTestBackend), 0u);
}

TEST_F(DeploymentStates, ASecondVersionRetiresTheFirstAndRetentionRemovesTheThird) {
  int64_t v1 = deploy("v1");
  int64_t v2 = deploy("v2");
  expect_v2_live_and_v1_retained(v1, v2);
  int64_t v3 = deploy("v3");
  EXPECT_EQ(read(v1).container_state, ContainerState::removed) << "beyond retain 1";
  EXPECT_EQ(read(v2).container_state, ContainerState::stopped);
  EXPECT_EQ(world_.containers().size(), 2u);
  EXPECT_EQ(world_.live_port(), read(v3).port);
}

TEST_F(DeploymentStates, AnUnhealthyGreenRollsBackWithoutMovingTraffic) {
  int64_t v1 = deploy("v1");
  world_.set_health(image_of("v2"), 503);
  observed_.clear();
  DeploymentRecord green = drive(queue("v2"));
  EXPECT_EQ(green.outcome, DeploymentState::rolled_back);
  EXPECT_EQ(observed_, (std::vector<DeploymentState>{DeploymentState::starting, DeploymentState::health_checking,
                                                     DeploymentState::rolling_back, DeploymentState::rolled_back}));
  EXPECT_NE(green.reason.find("health check failed before the switch"), std::string::npos) << green.reason;
  ASSERT_EQ(rollbacks_.size(), 1u) << "v1 live again is recorded as a rollback deployment";
  EXPECT_EQ(rollbacks_[0].digest, read(v1).digest);
  EXPECT_EQ(rollbacks_[0].outcome, DeploymentState::succeeded);
  EXPECT_EQ(world_.live_port(), read(v1).port) << "traffic never left v1";
  EXPECT_EQ(world_.containers().count(green.container), 0u) << "green removed";
  EXPECT_EQ(green.container_state, ContainerState::removed);
}

TEST_F(DeploymentStates, AnUnhealthyFirstVersionFailsForNothingIsLiveToReturnTo) {
  world_.set_health(image_of("v1"), 503);
  DeploymentRecord done = drive(queue("v1"));
  EXPECT_EQ(done.outcome, DeploymentState::failed);
  EXPECT_EQ(done.state, DeploymentState::failed);
  EXPECT_TRUE(world_.containers().empty());
  EXPECT_EQ(world_.live_port(), 0);
}

TEST_F(DeploymentStates, AFailureDuringTheBakeSwitchesTrafficBackToBlue) {
  int64_t v1 = deploy("v1");
  target_.deploy.bake = Milliseconds(400);
  // Healthy for the gate, then unhealthy once traffic has moved.
  world_.on_call([this](const std::string& call) {
    if (call.rfind("switch production", 0) == 0) world_.set_health(image_of("v2"), 503);
  });
  DeploymentRecord green = drive(queue("v2"));
  EXPECT_EQ(green.outcome, DeploymentState::rolled_back) << green.reason;
  EXPECT_NE(green.reason.find("failed during the bake"), std::string::npos) << green.reason;
  EXPECT_EQ(world_.live_port(), read(v1).port) << "traffic back on v1";
  EXPECT_EQ(world_.containers().at(read(v1).container).state, "running");
}

TEST_F(DeploymentStates, ASupersededDeploymentStopsBeforeItsSwitch) {
  deploy("v1");
  superseded_ = true;  // a newer image came while it was queued
  DeploymentRunContext context{*store_, runtime_, router_, options_, stopping_, interrupt_, superseded_};
  int64_t id = queue("v2");
  DeploymentRun(context, target_, read(id)).drive();
  DeploymentRecord done = read(id);
  EXPECT_EQ(done.outcome, DeploymentState::superseded);
  EXPECT_EQ(done.state, DeploymentState::superseded);
  superseded_ = false;
}

// Every place a kill can land in a deployment of v2 over a live v1: after each write, and after
// each action before the next write. Each restart must end as an uninterrupted one does.
struct CrashPoint {
  std::string name;
  std::optional<DeploymentState> after_state;
  std::string after_call;   // with {green} for green's container, {blue} for blue's, {slot} green's slot
};

class DeploymentCrash : public DeploymentStates, public ::testing::WithParamInterface<CrashPoint> {
 protected:
  std::string expand(std::string call, const DeploymentRecord& blue, const std::string& green_container) {
    auto replace = [&](const std::string& what, const std::string& with) {
      if (auto at = call.find(what); at != std::string::npos) call.replace(at, what.size(), with);
    };
    replace("{green}", green_container);
    replace("{blue}", blue.container);
    replace("{blue_slot}", blue.slot);
    replace("{slot}", std::string(other_slot(blue.slot)));
    return call;
  }
};

TEST_P(DeploymentCrash, ARestartFinishesTheDeploymentExactlyOnce) {
  int64_t v1 = deploy("v1");
  const CrashPoint& point = GetParam();
  int64_t v2 = queue("v2");
  std::string green_container = deployment_container_name(kApplication, kEnvironment, options_.owner, v2);
  crash_after_state_ = point.after_state;
  if (!point.after_call.empty()) crash_after_call_ = expand(point.after_call, read(v1), green_container);

  DeploymentRecord killed = point.after_state == DeploymentState::queued ? read(v2) : drive(v2);
  ASSERT_FALSE(killed.outcome.has_value()) << point.name << ": the kill landed after the end";
  if (point.after_state) {
    EXPECT_EQ(killed.state, *point.after_state) << "the last write is where it resumes";
  }
  size_t steps_before = killed.steps.size();

  crash_after_state_.reset();
  crash_after_call_.reset();
  DeploymentRecord resumed = drive(v2);
  expect_v2_live_and_v1_retained(v1, v2);
  EXPECT_EQ(resumed.steps.back().state, DeploymentState::succeeded);
  EXPECT_GT(resumed.steps.size(), steps_before);
}

INSTANTIATE_TEST_SUITE_P(
    EveryWriteAndAction, DeploymentCrash,
    ::testing::Values(CrashPoint{"after_queued_written", DeploymentState::queued, ""},
                      CrashPoint{"after_starting_written", DeploymentState::starting, ""},
                      CrashPoint{"after_green_created", std::nullopt, "create {green}"},
                      CrashPoint{"after_green_started", std::nullopt, "start {green}"},
                      CrashPoint{"after_health_checking_written", DeploymentState::health_checking, ""},
                      CrashPoint{"after_verifying_written", DeploymentState::verifying, ""},
                      CrashPoint{"after_test_listener_switched", std::nullopt, "switch test {slot}"},
                      CrashPoint{"after_switching_written", DeploymentState::switching, ""},
                      CrashPoint{"after_green_slot_set", std::nullopt, "slot production {slot} "},
                      CrashPoint{"after_traffic_switched", std::nullopt, "switch production {slot}"},
                      CrashPoint{"after_baking_written", DeploymentState::baking, ""},
                      CrashPoint{"after_draining_written", DeploymentState::draining, ""},
                      CrashPoint{"after_blue_out_of_rotation", std::nullopt, "state production {blue_slot} maint"},
                      CrashPoint{"after_retiring_written", DeploymentState::retiring, ""},
                      CrashPoint{"after_blue_stopped", std::nullopt, "stop {blue}"}),
    [](const ::testing::TestParamInfo<CrashPoint>& info) { return info.param.name; });


// The controller itself over the same fakes: lanes, offers, superseding, rollback on request and
// a restart that resumes a deployment a killed server left half done.
class ControllerLanes : public DeploymentStates {
 protected:
  // The calls after the last "router start": what the restarted lane did first.
  std::vector<std::string> calls_since_router_start() {
    auto calls = world_.calls();
    auto last = std::find(calls.rbegin(), calls.rend(), "router start");
    EXPECT_NE(last, calls.rend()) << "the lane starts its router";
    return {last.base(), calls.end()};
  }

  ImageOffer offer_of(const std::string& version) {
    std::string image = image_of(version);
    return {kApplication, kEnvironment, image, image.substr(image.find('@') + 1), version, ""};
  }

  std::vector<DeploymentRecord> all() {
    auto found = list_deployments(*store_, {kApplication, kEnvironment, false, 0, 100});
    EXPECT_TRUE(found.ok());
    return found.ok() ? *found : std::vector<DeploymentRecord>{};
  }
};

TEST_F(ControllerLanes, AnOfferDeploysAndTheSameDigestAgainIsNotANewDeployment) {
  DeploymentController controller(options_);
  ASSERT_TRUE(controller.start().ok());
  auto first = controller.offer(offer_of("v1"));
  ASSERT_TRUE(first.ok() && first->has_value()) << (first.ok() ? "" : first.error().message);
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  EXPECT_EQ(read(**first).outcome, DeploymentState::succeeded) << read(**first).reason;
  EXPECT_TRUE(world_.router_running());
  auto again = controller.offer(offer_of("v1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value()) << "v1 is live already";
  EXPECT_EQ(all().size(), 1u);
}

TEST_F(ControllerLanes, ANewerOfferSupersedesTheQueuedOnes) {
  DeploymentController controller(options_);
  ASSERT_TRUE(controller.start().ok());
  std::vector<int64_t> ids;
  for (const char* version : {"v1", "v2", "v3"}) {
    auto id = controller.offer(offer_of(version));
    ASSERT_TRUE(id.ok() && id->has_value());
    ids.push_back(**id);
  }
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  EXPECT_EQ(read(ids[2]).outcome, DeploymentState::succeeded) << "the newest one wins";
  EXPECT_EQ(read(ids[1]).outcome, DeploymentState::superseded) << read(ids[1]).reason;
  auto live = live_deployment(*store_, kApplication, kEnvironment);
  ASSERT_TRUE(live.ok() && live->has_value());
  EXPECT_EQ((*live)->id, ids[2]);
  EXPECT_EQ(world_.live_port(), (*live)->port);
}

TEST_F(ControllerLanes, RollbackOnRequestStartsTheRetainedContainerAgain) {
  DeploymentController controller(options_);
  ASSERT_TRUE(controller.start().ok());
  auto v1 = controller.offer(offer_of("v1"));
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  auto refused = controller.rollback(kApplication, kEnvironment);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict) << refused.error().message;
  ASSERT_TRUE(controller.offer(offer_of("v2")).ok());
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  auto back = controller.rollback(kApplication, kEnvironment, "v2 is slow");
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  DeploymentRecord rollback = read(*back);
  EXPECT_EQ(rollback.kind, "rollback");
  EXPECT_EQ(rollback.outcome, DeploymentState::succeeded) << rollback.reason;
  EXPECT_EQ(rollback.container, read(**v1).container) << "v1's retained container, not a new one";
  EXPECT_EQ(read(**v1).container_state, ContainerState::moved);
  EXPECT_EQ(world_.live_port(), rollback.port);
}

TEST_F(ControllerLanes, ARestartResumesAHalfDoneDeploymentAndAdoptsTheRouter) {
  int64_t v1 = deploy("v1");
  int64_t v2 = queue("v2");
  crash_after_state_ = DeploymentState::switching;
  drive(v2);  // killed right after "switching" was written
  crash_after_state_.reset();
  ASSERT_EQ(read(v2).state, DeploymentState::switching);
  // A container of this server that no deployment accounts for: removed at start.
  ContainerSpec stray;
  stray.name = "slipway-stray";
  stray.image = image_of("v9");
  stray.labels = {{"slipway.deployment", "999"}, {"slipway.owner", options_.owner}};
  world_.set_killed(false);
  ASSERT_TRUE(runtime_.create(stray).ok());

  DeploymentController controller(options_);
  ASSERT_TRUE(controller.start().ok());
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  expect_v2_live_and_v1_retained(v1, v2);
  EXPECT_EQ(world_.containers().count("slipway-stray"), 0u);
  auto calls = calls_since_router_start();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.front(), "slot production " + read(v2).slot + " " + std::to_string(read(v2).port))
      << "the router that outlived the server is adopted as it is; the switch is finished";
}

TEST_F(ControllerLanes, ARouterThatDidNotSurviveIsPointedAtTheLiveVersionFirst) {
  int64_t v1 = deploy("v1");
  world_.change([](auto&, auto& backends, bool& running) {  // the machine rebooted: HAProxy is gone
    backends.clear();
    running = false;
    return 0;
  });
  DeploymentController controller(options_);
  ASSERT_TRUE(controller.start().ok());
  ASSERT_TRUE(controller.wait_idle(kApplication, kEnvironment, Milliseconds(10'000)));
  DeploymentRecord live = read(v1);
  auto calls = calls_since_router_start();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[0], "start " + live.container);
  EXPECT_EQ(calls[1], "slot production " + live.slot + " " + std::to_string(live.port));
  EXPECT_EQ(calls[2], "switch production " + live.slot);
  EXPECT_EQ(world_.live_port(), live.port);
}

// A kill while rolling back (green unhealthy): the restart finishes the rollback, never the
// deployment.
class DeploymentRollbackCrash : public DeploymentStates, public ::testing::WithParamInterface<CrashPoint> {};

TEST_P(DeploymentRollbackCrash, ARestartFinishesTheRollback) {
  int64_t v1 = deploy("v1");
  world_.set_health(image_of("v2"), 503);
  int64_t v2 = queue("v2");
  crash_after_state_ = GetParam().after_state;
  if (!GetParam().after_call.empty()) {
    crash_after_call_ = GetParam().after_call + " " + deployment_container_name(kApplication, kEnvironment, options_.owner, v2);
  }
  DeploymentRecord killed = drive(v2);
  ASSERT_FALSE(killed.outcome.has_value()) << GetParam().name << ": the kill landed after the end";
  EXPECT_EQ(killed.state, DeploymentState::rolling_back);
  crash_after_state_.reset();
  crash_after_call_.reset();
  DeploymentRecord resumed = drive(v2);
  EXPECT_EQ(resumed.outcome, DeploymentState::rolled_back) << resumed.reason;
  EXPECT_NE(resumed.reason.find("health check failed"), std::string::npos) << "the reason survives the restart";
  EXPECT_EQ(world_.live_port(), read(v1).port);
  EXPECT_EQ(world_.containers().count(resumed.container), 0u);
  EXPECT_EQ(world_.containers().at(read(v1).container).state, "running");
}

INSTANTIATE_TEST_SUITE_P(EveryWriteAndAction, DeploymentRollbackCrash,
                         ::testing::Values(CrashPoint{"after_rolling_back_written", DeploymentState::rolling_back, ""},
                                           CrashPoint{"after_green_removed", std::nullopt, "remove"}),
                         [](const ::testing::TestParamInfo<CrashPoint>& info) { return info.param.name; });

}  // namespace
}  // namespace slipway
