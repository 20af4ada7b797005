// HealthGate against the real test application (tests/apps/bluegreen_app.c) in containers on a
// real dockerd: N consecutive successes pass; a slow start is not a failure; a 503 fails in a
// few checks; an exited container or a failing Docker HEALTHCHECK fails at once; the bake
// catches a version that turns unhealthy; `stop` and start_timeout end the wait. Timings are
// small (100 ms interval) and only generous functional bounds are asserted, never speed.
// Every container and image a test makes is removed when it ends, even when it fails.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"
#include "base/ports.h"
#include "cd/container_runtime.h"
#include "cd/health_gate.h"
#include "publish/docker_engine.h"
#include "support/bluegreen_app_image.h"
#include "support/docker_daemon.h"

namespace slipway {
namespace {

using testing::BluegreenAppImage;
using testing::DockerDaemon;

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// Removes (forcibly) every container a test created, whatever happened.
struct CreatedContainers {
  ContainerRuntime& runtime;
  std::vector<std::string> names;
  ~CreatedContainers() {
    for (const auto& name : names) (void)runtime.remove(name, true);
  }
};

// True once GET http://127.0.0.1:port/ answers (the app needs a moment to listen).
bool answers_soon(int port) {
  HttpClientRequest get;
  get.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  get.timeout = Milliseconds(2'000);
  for (int i = 0; i < 100; ++i) {
    HttpClient client;
    if (client.send(get)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

HealthSpec fast_health(int healthy = 3, int unhealthy = 2) {
  HealthSpec spec;
  spec.path = "/health";
  spec.interval = Milliseconds(100);
  spec.timeout = Milliseconds(1'000);
  spec.healthy = healthy;
  spec.unhealthy = unhealthy;
  return spec;
}

class HealthGateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DockerDaemon();
    if (!daemon_->error().empty()) return;
    engine_ = new DockerEngine(daemon_->socket());
    image_ = new BluegreenAppImage(*engine_);
  }

  static void TearDownTestSuite() {
    delete image_;
    delete engine_;
    delete daemon_;
    image_ = nullptr;
    engine_ = nullptr;
    daemon_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(daemon_->error(), "");
    ASSERT_EQ(image_->error(), "");
  }

  // Creates and starts a container of the app (or of `image`) with $PORT a free loopback port
  // and `env` on top; returns what the gate checks. The container goes when the test ends.
  HealthTarget start_app(const std::string& suffix, std::map<std::string, std::string> env, std::string image = "") {
    auto port = free_loopback_port();
    EXPECT_TRUE(port) << (port ? "" : port.error().message);
    ContainerSpec spec;
    spec.name = "slipway-test-" + std::to_string(getpid()) + "-health-" + suffix;
    spec.image = image.empty() ? image_->tag() : image;
    spec.env = {{"PORT", std::to_string(port ? *port : 0)}, {"APP_VERSION", suffix}};
    for (auto& [name, value] : env) spec.env[name] = value;
    spec.labels = {{"slipway.application", "bluegreen"}, {"slipway.test", std::to_string(getpid())}};
    created_.names.push_back(spec.name);
    auto id = runtime_.create(spec);
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
    auto started = runtime_.start(spec.name);
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
    return HealthTarget{port ? *port : 0, spec.name};
  }

  static DockerDaemon* daemon_;
  static DockerEngine* engine_;
  static BluegreenAppImage* image_;
  DockerContainerRuntime runtime_{DockerDaemon::kSocket};
  CreatedContainers created_{runtime_, {}};
  std::atomic<bool> stop_{false};
};

DockerDaemon* HealthGateTest::daemon_ = nullptr;
DockerEngine* HealthGateTest::engine_ = nullptr;
BluegreenAppImage* HealthGateTest::image_ = nullptr;

TEST_F(HealthGateTest, AHealthyAppPassesAfterExactlyTheHealthyCount) {
  HealthTarget target = start_app("healthy", {});
  ASSERT_TRUE(answers_soon(target.port));
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(3'000));

  HealthCheckResult one = gate.check(target);
  EXPECT_TRUE(one.healthy) << one.detail;
  EXPECT_TRUE(one.answered);
  EXPECT_EQ(one.status, 200);
  EXPECT_FALSE(one.fatal);
  EXPECT_TRUE(contains(one.detail, "200 in ")) << one.detail;
  EXPECT_TRUE(contains(one.detail, " ms")) << one.detail;

  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_TRUE(outcome.passed) << outcome.reason;
  EXPECT_EQ(outcome.checks, 3);
  EXPECT_TRUE(contains(outcome.reason, "healthy: 3 consecutive checks passed (200 in ")) << outcome.reason;
}

TEST_F(HealthGateTest, ASlowStartIsNotAFailure) {
  HealthTarget target = start_app("slow", {{"START_DELAY_MS", "1500"}});
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(30'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_TRUE(outcome.passed) << outcome.reason;
  EXPECT_GT(outcome.checks, 3) << "the refused checks of the first 1.5 s were made but not counted";
}

TEST_F(HealthGateTest, AnErrorAnswerFailsAfterTheUnhealthyCount) {
  HealthTarget target = start_app("failing", {{"HEALTH_FAIL", "1"}});
  ASSERT_TRUE(answers_soon(target.port));
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(60'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_FALSE(outcome.passed);
  EXPECT_EQ(outcome.checks, 2) << "a 503 counts at once: it never waits for start_timeout";
  EXPECT_EQ(outcome.reason, "unhealthy: 2 consecutive checks failed (503, 503)");
}

TEST_F(HealthGateTest, AnErrorAnswerCountsEvenBeforeTheAppWasSeenUp) {
  HealthTarget target = start_app("failing-early", {{"HEALTH_FAIL", "1"}, {"START_DELAY_MS", "300"}});
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(60'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_FALSE(outcome.passed);
  EXPECT_EQ(outcome.reason, "unhealthy: 2 consecutive checks failed (503, 503)");
}

TEST_F(HealthGateTest, AContainerThatExitsIsFatal) {
  HealthTarget target = start_app("exits", {{"PORT", "0"}});  // the app refuses to start: exit 2
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(30'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_FALSE(outcome.passed);
  EXPECT_EQ(outcome.reason, "container exited (code 2)");
}

TEST_F(HealthGateTest, AContainerKilledDuringTheWaitIsFatal) {
  HealthTarget target = start_app("killed", {{"START_DELAY_MS", "600000"}});
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(60'000));
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    (void)runtime_.kill(target.container, "KILL");
  });
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  killer.join();
  EXPECT_FALSE(outcome.passed);
  EXPECT_EQ(outcome.reason, "container exited (code 137)");
  EXPECT_GT(outcome.checks, 1);
}

TEST_F(HealthGateTest, AFailingDockerHealthcheckIsFatalThoughHttpAnswers) {
  // The scratch image has no shell; its HEALTHCHECK runs the app binary again, which cannot
  // listen on the port the running app already holds and exits 2 — a probe that always fails.
  TemporaryDirectory context("slipway-health-image");
  ASSERT_TRUE(write_file_atomically(context.path() / "Dockerfile",
                                    "FROM " + image_->tag() +
                                        "\nHEALTHCHECK --interval=200ms --timeout=2s --retries=1 CMD [\"/app\"]\n"));
  std::string tag = "slipway-test/bluegreen-healthcheck:" + std::to_string(getpid());
  struct Image {
    DockerEngine& engine;
    std::string tag;
    ~Image() { (void)engine.remove_image(tag, true); }
  } image{*engine_, tag};
  ImageBuildRequest build;
  build.context = context.path();
  build.tags = {tag};
  auto built = engine_->build_image(build, [](std::string_view) {});
  ASSERT_TRUE(built) << built.error().message;

  HealthTarget target = start_app("healthcheck", {}, tag);
  ASSERT_TRUE(answers_soon(target.port));
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(30'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_FALSE(outcome.passed) << "a 200 while the HEALTHCHECK is starting is not yet a success";
  EXPECT_EQ(outcome.reason, "container HEALTHCHECK unhealthy");
  HealthCheckResult result = gate.check(target);
  EXPECT_TRUE(result.fatal);
  EXPECT_FALSE(result.healthy);
}

TEST_F(HealthGateTest, TheBakeFailsWhenTheAppTurnsUnhealthy) {
  HealthTarget target = start_app("turns", {{"FAIL_AFTER_MS", "2500"}});
  HealthGate gate(fast_health(2, 2), &runtime_, Milliseconds(30'000));
  GateOutcome admitted = gate.wait_until_healthy(target, stop_);
  ASSERT_TRUE(admitted.passed) << admitted.reason;
  GateOutcome baked = gate.watch(target, Milliseconds(60'000), stop_);
  EXPECT_FALSE(baked.passed);
  EXPECT_EQ(baked.reason, "unhealthy: 2 consecutive checks failed (503, 503)");
}

TEST_F(HealthGateTest, TheBakePassesOnAHealthyApp) {
  HealthTarget target = start_app("bakes", {});
  ASSERT_TRUE(answers_soon(target.port));
  HealthGate gate(fast_health(2, 2), &runtime_, Milliseconds(3'000));
  GateOutcome baked = gate.watch(target, Milliseconds(700), stop_);
  EXPECT_TRUE(baked.passed) << baked.reason;
  EXPECT_GE(baked.checks, 1);
  EXPECT_TRUE(contains(baked.reason, "healthy for 0.7 s")) << baked.reason;
  EXPECT_TRUE(contains(baked.reason, "200 in ")) << baked.reason;
}

TEST_F(HealthGateTest, TheBakeFailsWhenTheContainerIsKilled) {
  HealthTarget target = start_app("bake-killed", {});
  ASSERT_TRUE(answers_soon(target.port));
  HealthGate gate(fast_health(2, 2), &runtime_, Milliseconds(3'000));
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    (void)runtime_.kill(target.container, "KILL");
  });
  GateOutcome baked = gate.watch(target, Milliseconds(60'000), stop_);
  killer.join();
  EXPECT_FALSE(baked.passed);
  EXPECT_EQ(baked.reason, "container exited (code 137)");
}

TEST_F(HealthGateTest, StopEndsTheWaitAndTheBakeEarly) {
  HealthTarget target = start_app("stopped", {{"START_DELAY_MS", "600000"}});
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(60'000));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    stop_ = true;
  });
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  stopper.join();
  EXPECT_FALSE(outcome.passed);
  EXPECT_EQ(outcome.reason, "stopped") << "the stop, not start_timeout (a minute), ended it";

  GateOutcome baked = gate.watch(target, Milliseconds(60'000), stop_);
  EXPECT_FALSE(baked.passed);
  EXPECT_EQ(baked.reason, "stopped");
  EXPECT_EQ(baked.checks, 0);
}

TEST_F(HealthGateTest, AnAppThatNeverListensFailsAtStartTimeout) {
  HealthTarget target = start_app("silent", {{"START_DELAY_MS", "600000"}});
  HealthGate gate(fast_health(3, 2), &runtime_, Milliseconds(2'000));
  GateOutcome outcome = gate.wait_until_healthy(target, stop_);
  EXPECT_FALSE(outcome.passed);
  std::string expected = "never answered on 127.0.0.1:" + std::to_string(target.port) + "/health within 2 s";
  EXPECT_TRUE(contains(outcome.reason, expected)) << outcome.reason;
  EXPECT_TRUE(contains(outcome.reason, "connection refused")) << outcome.reason;
  EXPECT_GT(outcome.checks, 3) << "refused checks before the first answer do not fail the version";
}

TEST_F(HealthGateTest, WithoutAContainerOnlyHttpIsChecked) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port);
  HealthGate gate(fast_health(3, 2), nullptr);
  HealthCheckResult result = gate.check(HealthTarget{*port, "slipway-test-no-such-container"});
  EXPECT_FALSE(result.healthy);
  EXPECT_FALSE(result.answered);
  EXPECT_FALSE(result.fatal) << "no runtime: the container's state is not looked at";
  EXPECT_EQ(result.detail, "connection refused");
}

}  // namespace
}  // namespace slipway
