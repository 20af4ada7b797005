// ContainerRuntime against a real dockerd (started by DockerDaemon when none runs) and the test
// application's FROM scratch image: create on the host network with $PORT, start, answer over
// HTTP, inspect, logs, a graceful stop (SIGTERM → exit 0), remove; the clear error for a missing
// image; a memory limit; label filters; a failing health check that leaves the app running.
// Every container and image a test makes is removed when it ends, even when it fails.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/http_client.h"
#include "base/strings.h"
#include "base/ports.h"
#include "cd/container_runtime.h"
#include "publish/docker_engine.h"
#include "support/bluegreen_app_image.h"
#include "support/docker_daemon.h"
#include "support/test_images.h"
#include "support/registry_fixture.h"

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

// GET http://127.0.0.1:port/path, retried until it answers (the app needs a moment to listen).
Result<HttpClientResponse> get_when_up(int port, const std::string& path) {
  HttpClient client;
  HttpClientRequest get;
  get.url = "http://127.0.0.1:" + std::to_string(port) + path;
  get.timeout = Milliseconds(2'000);
  Result<HttpClientResponse> answer = make_error("not tried");
  for (int i = 0; i < 100; ++i) {
    answer = client.send(get);
    if (answer) return answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return answer;
}


class ContainerRuntimeTest : public ::testing::Test {
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

  // The spec of a container of the app, its $PORT a free loopback port.
  ContainerSpec app_spec(const std::string& suffix, const std::string& version) {
    auto port = free_loopback_port();
    EXPECT_TRUE(port) << (port ? "" : port.error().message);
    port_ = port ? *port : 0;
    ContainerSpec spec;
    spec.name = "slipway-test-" + std::to_string(getpid()) + "-" + suffix;
    spec.image = image_->tag();
    spec.env = {{"PORT", std::to_string(port_)}, {"APP_VERSION", version}};
    spec.labels = {{"slipway.application", "bluegreen"}, {"slipway.environment", "test"},
                   {"slipway.test", std::to_string(getpid())}};
    created_.names.push_back(spec.name);
    return spec;
  }

  static DockerDaemon* daemon_;
  static DockerEngine* engine_;
  static BluegreenAppImage* image_;
  DockerContainerRuntime runtime_{DockerDaemon::kSocket};
  CreatedContainers created_{runtime_, {}};
  int port_ = 0;
};

DockerDaemon* ContainerRuntimeTest::daemon_ = nullptr;
DockerEngine* ContainerRuntimeTest::engine_ = nullptr;
BluegreenAppImage* ContainerRuntimeTest::image_ = nullptr;

TEST_F(ContainerRuntimeTest, RunsTheAppOnTheHostNetworkAndStopsItGracefully) {
  ContainerSpec spec = app_spec("run", "1.4.2");
  spec.memory_bytes = 64 << 20;
  auto id = runtime_.create(spec);
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(runtime_.start(*id));
  EXPECT_TRUE(runtime_.start(*id)) << "starting a running container is success";

  auto answer = get_when_up(port_, "/");
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->headers.get("X-App-Version"), "1.4.2");
  EXPECT_EQ(answer->body, "version 1.4.2\n");

  auto details = runtime_.inspect(spec.name);
  ASSERT_TRUE(details) << details.error().message;
  ASSERT_TRUE(details->has_value());
  EXPECT_EQ((*details)->id, *id);
  EXPECT_EQ((*details)->name, spec.name);
  EXPECT_EQ((*details)->state, "running");
  EXPECT_EQ((*details)->health, "none");
  EXPECT_EQ((*details)->memory_bytes, 64 << 20);
  EXPECT_EQ((*details)->labels["slipway.application"], "bluegreen");
  EXPECT_FALSE((*details)->started_at.empty());
  EXPECT_FALSE((*details)->oom_killed);

  // Following the logs ends when the handler says so.
  std::vector<std::string> followed;
  auto followed_status = runtime_.logs(*id, true, [&](LogStream, std::string_view line) {
    followed.emplace_back(line);
    return !contains(std::string(line), "listening");
  });
  ASSERT_TRUE(followed_status) << followed_status.error().message;
  ASSERT_FALSE(followed.empty());
  EXPECT_TRUE(contains(followed.back(), "listening on 127.0.0.1:" + std::to_string(port_)));

  ASSERT_TRUE(runtime_.stop(*id, std::chrono::seconds(10)));
  details = runtime_.inspect(*id);
  ASSERT_TRUE(details && details->has_value());
  EXPECT_EQ((*details)->state, "exited");
  EXPECT_EQ((*details)->exit_code, 0) << "SIGTERM should drain and exit 0, not be killed";
  EXPECT_TRUE(runtime_.stop(*id, std::chrono::seconds(1))) << "stopping a stopped container is success";

  std::vector<std::string> lines;
  ASSERT_TRUE(runtime_.logs(*id, false, [&](LogStream stream, std::string_view line) {
    if (stream == LogStream::out) lines.emplace_back(line);
    return true;
  }));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(contains(lines[1], "SIGTERM"));
  EXPECT_TRUE(contains(lines[2], "stopped"));

  ASSERT_TRUE(runtime_.remove(*id));
  details = runtime_.inspect(*id);
  ASSERT_TRUE(details) << details.error().message;
  EXPECT_FALSE(details->has_value());
  EXPECT_TRUE(runtime_.remove(*id)) << "removing a container already gone is success";
}

TEST_F(ContainerRuntimeTest, AMissingImageIsAClearError) {
  ContainerSpec spec = app_spec("missing", "1");
  spec.image = "slipway-test/absent:nope";
  auto id = runtime_.create(spec);
  ASSERT_FALSE(id);
  EXPECT_TRUE(contains(id.error().message, "image slipway-test/absent:nope is not on this Docker Engine"))
      << id.error().message;
  EXPECT_TRUE(contains(id.error().message, spec.name)) << id.error().message;
}

TEST_F(ContainerRuntimeTest, APullFromAnUnreachableLoopbackRegistryQuotesTheEngine) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port);
  std::string image = "127.0.0.1:" + std::to_string(*port) + "/app@sha256:" + std::string(64, 'a');
  auto ensured = runtime_.ensure_image(image);
  ASSERT_FALSE(ensured);
  EXPECT_TRUE(contains(ensured.error().message, "is not on this Docker Engine")) << ensured.error().message;
  EXPECT_TRUE(contains(ensured.error().message, "the pull failed")) << ensured.error().message;
  EXPECT_TRUE(contains(ensured.error().message, "127.0.0.1:" + std::to_string(*port))) << ensured.error().message;
}

TEST_F(ContainerRuntimeTest, ErrorsNameTheContainerAndQuoteTheDaemon) {
  std::string name = "slipway-test-" + std::to_string(getpid()) + "-nothing";
  auto started = runtime_.start(name);
  ASSERT_FALSE(started);
  EXPECT_TRUE(contains(started.error().message, "cannot start the container " + name)) << started.error().message;
  EXPECT_TRUE(contains(started.error().message, "No such container")) << started.error().message;

  auto details = runtime_.inspect(name);
  ASSERT_TRUE(details) << details.error().message;
  EXPECT_FALSE(details->has_value());

  ContainerSpec spec = app_spec("twice", "1");
  ASSERT_TRUE(runtime_.create(spec));
  auto again = runtime_.create(spec);
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.error().message, spec.name)) << again.error().message;
  EXPECT_TRUE(contains(again.error().message, "409")) << again.error().message;
}

TEST_F(ContainerRuntimeTest, ListsOnlyTheContainersWithAllTheLabels) {
  ContainerSpec staging = app_spec("staging", "1");
  staging.labels["slipway.environment"] = "staging";
  ContainerSpec production = app_spec("production", "1");
  production.labels["slipway.environment"] = "production";
  ASSERT_TRUE(runtime_.create(staging));
  ASSERT_TRUE(runtime_.create(production));

  std::string test = std::to_string(getpid());
  auto listed = runtime_.list({{"slipway.test", test}, {"slipway.environment", "staging"}});
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, staging.name);
  EXPECT_EQ((*listed)[0].state, "created");
  EXPECT_EQ((*listed)[0].labels["slipway.environment"], "staging");

  auto both = runtime_.list({{"slipway.test", test}, {"slipway.environment", ""}});
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->size(), 2u);
}

TEST_F(ContainerRuntimeTest, AFailingHealthCheckLeavesTheAppRunning) {
  ContainerSpec spec = app_spec("unhealthy", "2");
  spec.env["HEALTH_FAIL"] = "1";
  auto id = runtime_.create(spec);
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(runtime_.start(*id));
  auto health = get_when_up(port_, "/health");
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->status, 503);
  auto details = runtime_.inspect(*id);
  ASSERT_TRUE(details && details->has_value());
  EXPECT_EQ((*details)->state, "running") << "judging health is the deployer's business";
}

TEST_F(ContainerRuntimeTest, WaitReturnsTheExitCodeAfterAKill) {
  ContainerSpec spec = app_spec("killed", "3");
  auto id = runtime_.create(spec);
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(runtime_.start(*id));
  ASSERT_TRUE(get_when_up(port_, "/"));
  ASSERT_TRUE(runtime_.kill(*id, "KILL"));
  auto code = runtime_.wait(*id, Milliseconds(30'000));
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, 137);
  EXPECT_TRUE(runtime_.kill(*id)) << "killing a stopped container is success";
}

TEST_F(ContainerRuntimeTest, PullsAMissingImageByDigestFromALoopbackRegistryWithCredentials) {
  testing::RegistryServer registry;
  ASSERT_EQ(registry.error(), "");
  std::string repository = registry.address() + "/bluegreen";
  PullCredentials login{registry.username(), registry.password(), registry.address()};
  // The names this test gives the suite's image go again, whatever happens; the image stays.
  struct Names {
    DockerEngine& engine;
    std::vector<std::string> names;
    ~Names() {
      for (const auto& name : names) (void)engine.remove_image(name);
    }
  } names{*engine_, {repository + ":pushed"}};
  ASSERT_TRUE(engine_->tag_image(image_->tag(), repository, "pushed"));
  auto digest = testing::push_through_engine(DockerDaemon::kSocket, repository, "pushed", login);
  ASSERT_TRUE(digest) << digest.error().message;
  std::string by_digest = repository + "@" + *digest;
  names.names.push_back(by_digest);
  ASSERT_TRUE(engine_->remove_image(repository + ":pushed"));
  ASSERT_TRUE(engine_->remove_image(by_digest));
  auto gone = engine_->inspect_image(by_digest);
  ASSERT_TRUE(gone && !gone->has_value()) << "the digest reference should be gone before the pull";

  auto refused = runtime_.ensure_image(by_digest);
  ASSERT_FALSE(refused) << "the registry wants a login";
  EXPECT_TRUE(contains(refused.error().message, "the pull failed")) << refused.error().message;

  auto pulled = runtime_.ensure_image(by_digest, login);
  ASSERT_TRUE(pulled) << pulled.error().message;
  auto present = engine_->inspect_image(by_digest);
  ASSERT_TRUE(present && present->has_value());
  EXPECT_EQ((*present)->id, image_->id());
}

}  // namespace
}  // namespace slipway
