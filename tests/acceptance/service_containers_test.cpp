// Service containers (`test.services.NAME.image`) through `slipway run` and a real dockerd: the
// service runs in the job's own network namespace (the pod), so a suite reaches it on
// 127.0.0.1 and the host does not; two jobs at once each have their own on the same port; its
// output is the service's log; its containers are gone after the job, and a killed runner's are
// removed when the next one starts. The service is tests/apps/service_app.c in a FROM scratch
// image, built here: nothing is pulled.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include "cd/container_runtime.h"
#include "publish/docker_engine.h"
#include "support/docker_daemon.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"
#include "support/service_app_image.h"

extern char** environ;

namespace slipway::testing {
namespace {

// A job whose service is the image, answering `answer` on 127.0.0.1:PORT, and a suite that
// reads it through bash's /dev/tcp, then pauses for `pause_seconds` (for the test to look).
std::string image_service_job(const std::string& image, int port, const std::string& answer, int pause_seconds) {
  return fmt::format(R"(kind: library
test:
  services:
    db:
      image: {0}
      env: {{ PORT: "{1}", ANSWER: {2} }}
      ready: "exec 3<>/dev/tcp/127.0.0.1/{1}"
  suites:
    unit: {{ run: "exec 3<>/dev/tcp/127.0.0.1/{1} && echo \"got $(cat <&3)\"; sleep {3}", timeout: 2m }}
)",
                     image, port, answer, pause_seconds);
}

class ServiceContainers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DockerDaemon();
    if (!daemon_->error().empty()) return;
    engine_ = new DockerEngine(daemon_->socket());
    image_ = new ServiceAppImage(*engine_);
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

  // The containers `slipway --data-dir DIR` started and has not removed.
  std::vector<ContainerSummary> containers_of(const std::filesystem::path& data_dir) {
    auto listed = runtime_.list({{"slipway.owner", std::filesystem::absolute(data_dir).string()}, {"slipway.pod", ""}});
    EXPECT_TRUE(listed.ok()) << (listed ? "" : listed.error().message);
    return listed ? *listed : std::vector<ContainerSummary>{};
  }

  static DockerDaemon* daemon_;
  static DockerEngine* engine_;
  static ServiceAppImage* image_;
  DockerContainerRuntime runtime_{DockerDaemon::kSocket};
};

DockerDaemon* ServiceContainers::daemon_ = nullptr;
DockerEngine* ServiceContainers::engine_ = nullptr;
ServiceAppImage* ServiceContainers::image_ = nullptr;

TEST_F(ServiceContainers, ASuiteReachesTheImageOnTheJobsLoopbackAndTheHostDoesNot) {
  constexpr int kPort = 15441;
  ScratchRepository repo;
  repo.write(".slipway.yml", image_service_job(image_->tag(), kPort, "from-the-container", 3));
  repo.commit();
  SlipwayCommand slipway;
  auto run = std::async(std::launch::async, [&] { return slipway.run({"run", repo.path().string()}); });
  // While the suite pauses the service is up, and only the job's own loopback has it.
  bool seen_running = false;
  for (int i = 0; i < 600 && !seen_running; ++i) {
    for (const auto& container : containers_of(slipway.data_dir())) {
      seen_running = seen_running || (container.labels.count("slipway.service") && container.state == "running");
    }
    if (!seen_running) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(seen_running) << "the service container never ran";
  EXPECT_FALSE(host_can_connect(kPort)) << "the job's service was reachable from the host";
  auto result = run.get();
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("[unit] got from-the-container"), std::string::npos) << result.out;
  // The container's own output is the service's log: it ran with no_new_privs.
  EXPECT_NE(result.out.find(fmt::format("listening on 127.0.0.1:{} as uid 0, NoNewPrivs 1", kPort)), std::string::npos)
      << result.out;
  EXPECT_TRUE(containers_of(slipway.data_dir()).empty()) << "a container outlived its job";
}

TEST_F(ServiceContainers, TwoJobsAtOnceEachReachTheirOwnServiceOnTheSamePort) {
  constexpr int kPort = 15442;
  ScratchRepository first, second;
  first.write(".slipway.yml", image_service_job(image_->tag(), kPort, "first-job", 1));
  first.commit();
  second.write(".slipway.yml", image_service_job(image_->tag(), kPort, "second-job", 1));
  second.commit();
  SlipwayCommand slipway_a, slipway_b;
  auto run_a = std::async(std::launch::async, [&] { return slipway_a.run({"run", first.path().string()}); });
  auto run_b = std::async(std::launch::async, [&] { return slipway_b.run({"run", second.path().string()}); });
  auto a = run_a.get();
  auto b = run_b.get();
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_NE(a.out.find("[unit] got first-job"), std::string::npos) << a.out;
  EXPECT_NE(b.out.find("[unit] got second-job"), std::string::npos) << b.out;
  EXPECT_TRUE(containers_of(slipway_a.data_dir()).empty());
  EXPECT_TRUE(containers_of(slipway_b.data_dir()).empty());
}

TEST_F(ServiceContainers, AKilledRunnersContainersAreRemovedWhenTheNextRunStarts) {
  ScratchRepository repo;
  repo.write(".slipway.yml", image_service_job(image_->tag(), 15443, "left-behind", 120));
  repo.commit();
  SlipwayCommand slipway;
  std::vector<std::string> words = {SLIPWAY_BINARY, "--data-dir", slipway.data_dir().string(), "run",
                                    repo.path().string()};
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t runner = 0;
  ASSERT_EQ(posix_spawn(&runner, SLIPWAY_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  size_t started = 0;
  for (int i = 0; i < 600 && started < 2; ++i) {  // the holder and the service
    started = 0;
    for (const auto& container : containers_of(slipway.data_dir())) started += container.state == "running";
    if (started < 2) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(started, 2u) << "the pod never ran";
  ::kill(runner, SIGKILL);
  ::waitpid(runner, nullptr, 0);
  EXPECT_EQ(containers_of(slipway.data_dir()).size(), 2u) << "nothing was left behind to clean up";

  ScratchRepository plain;
  plain.write(".slipway.yml", "kind: library\ntest:\n  network: none\n  suites:\n    unit: \"true\"\n");
  plain.commit();
  auto next = slipway.run({"run", plain.path().string()});
  EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
  EXPECT_TRUE(containers_of(slipway.data_dir()).empty()) << "the killed run's containers are still there";
}

TEST_F(ServiceContainers, AKilledServersContainersAreRemovedWhenItRestarts) {
  const std::string token = "service-containers-admin-token-0123456789";
  ScratchRepository repo;
  repo.write(".slipway.yml", image_service_job(image_->tag(), 15445, "served", 120));
  repo.commit();
  TemporaryDirectory folder("slipway-pods-serve");
  std::filesystem::path data = folder.path() / "data";
  std::ofstream(folder.path() / "slipway.yml") << "repositories:\n  - { name: demo, url: " << repo.path().string()
                                               << ", main: main }\n";
  std::vector<std::string> arguments = {"--config", (folder.path() / "slipway.yml").string(), "--data-dir",
                                        data.string()};
  auto server = std::make_unique<ServerProcess>(arguments, token);
  ASSERT_FALSE(server->address().empty()) << server->log();
  HttpAnswer triggered = http_request(server->address(), "POST", "/api/v1/repositories/demo/trigger",
                                      {{"Authorization", "Bearer " + token}}, "{}");
  ASSERT_EQ(triggered.status, 201) << triggered.body;
  size_t started = 0;
  for (int i = 0; i < 600 && started < 2; ++i) {
    started = 0;
    for (const auto& container : containers_of(data)) started += container.state == "running";
    if (started < 2) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(started, 2u) << "the pod never ran\n" << server->log();
  server->kill_hard();
  EXPECT_EQ(containers_of(data).size(), 2u) << "nothing was left behind to clean up";
  // Recovery runs before the server listens: once it serves, the leftovers are gone.
  server = std::make_unique<ServerProcess>(arguments, token);
  ASSERT_FALSE(server->address().empty()) << server->log();
  EXPECT_TRUE(containers_of(data).empty()) << "the killed server's containers are still there\n" << server->log();
}

TEST_F(ServiceContainers, AnImageTheEngineDoesNotHaveFailsTheJobSayingSo) {
  ScratchRepository repo;
  repo.write(".slipway.yml", image_service_job("slipway-test/absent:1", 15444, "none", 0));
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("image slipway-test/absent:1 is not on this Docker Engine"), std::string::npos)
      << result.out;
  EXPECT_TRUE(containers_of(slipway.data_dir()).empty());
}

}  // namespace
}  // namespace slipway::testing
