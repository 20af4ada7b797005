// Blue/green continuous deployment end to end, on real components only: an image pushed to a real
// registry notifies a real `slipway serve`, which pulls it into the Docker Engine, health-checks
// it, switches a real HAProxy, bakes, drains and retires the old version, and posts every step to
// two local chat receivers. Failures roll back (before and after the switch); a newer image
// supersedes one not yet switched; a server killed before the switch or mid-bake finishes the
// deployment on restart;
// a lost notification is made up for by the registry poll; a rollback on request returns to the
// previous version's retained container.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <atomic>
#include <mutex>
#include <thread>

#include "base/child_process.h"
#include "base/run_command.h"
#include "support/deployment_fixture.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::DeploymentFixture;
using testing::DeploySettings;

// Requests through the production listener for as long as it lives; counts what was not a 200.
class TrafficProbe {
 public:
  explicit TrafficProbe(std::string address) : address_(std::move(address)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        int status = 0;
        std::string version = DeploymentFixture::version_at(address_, &status);
        ++requests_;
        if (status != 200) {
          ++failures_;
          std::lock_guard lock(mutex_);
          failed_ += fmt::format("status {} at {} ms\n", status, now_ms());
        }
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~TrafficProbe() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int requests() const { return requests_; }
  int failures() const { return failures_; }
  std::string failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> failures_{0};
  mutable std::mutex mutex_;
  std::string failed_;
  std::thread thread_;
};

// A WebSocket client just big enough for the test application's echo (RFC 6455: masked text
// frames out, unmasked frames back).
class WebSocketClient {
 public:
  explicit WebSocketClient(const std::string& address) {
    auto colon = address.rfind(':');
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &target.sin_addr);
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) return;
    std::string request = "GET /ws HTTP/1.1\r\nHost: " + address +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return;
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && recv(fd_, &c, 1, 0) == 1) head += c;
    upgraded_ = head.rfind("HTTP/1.1 101", 0) == 0;
    // HAProxy writes header names in lower case.
    std::string lower = head;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto version = lower.find("x-app-version: ");
    if (version != std::string::npos) version_ = head.substr(version + 15, head.find("\r\n", version) - version - 15);
  }
  ~WebSocketClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool upgraded() const { return upgraded_; }
  const std::string& version() const { return version_; }

  // Sends `text`, returns what came back ("" when the connection is gone or answered a close).
  std::string echo(const std::string& text) {
    std::string frame = {static_cast<char>(0x81), static_cast<char>(0x80 | text.size()), 1, 2, 3, 4};
    for (size_t i = 0; i < text.size(); ++i) frame += static_cast<char>(text[i] ^ (1 + i % 4));
    if (send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) return "";
    unsigned char header[2];
    if (recv(fd_, header, 2, MSG_WAITALL) != 2 || (header[0] & 0x0F) != 0x1) return "";
    std::string payload(header[1] & 0x7F, '\0');
    if (recv(fd_, payload.data(), payload.size(), MSG_WAITALL) != static_cast<ssize_t>(payload.size())) return "";
    return payload;
  }

 private:
  int fd_ = -1;
  bool upgraded_ = false;
  std::string version_;
};

std::vector<std::string> states_of(const DeploymentRecord& deployment) {
  std::vector<std::string> states;
  for (const auto& step : deployment.steps) states.push_back(std::string(to_text(step.state)));
  return states;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string describe(const std::vector<DeploymentRecord>& deployments) {
  std::string text;
  for (const auto& deployment : deployments) {
    text += fmt::format("#{} {} {} outcome={} reason={}\n", deployment.id, deployment.kind, deployment.tag,
                        outcome_text(deployment.outcome), deployment.reason);
    for (const auto& step : deployment.steps) text += "    " + std::string(to_text(step.state)) + ": " + step.message + "\n";
  }
  return text;
}

#define ASSERT_FIXTURE(fixture) ASSERT_EQ((fixture).error(), "") << (fixture).server().log()

TEST(DeploymentTest, EachPushDeploysBlueGreenWithoutDroppingARequest) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s)) << describe(fixture.deployments());

  TrafficProbe probe(fixture.router_listen());
  ASSERT_FALSE(fixture.push_version("v2").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v2", 30s)) << describe(fixture.deployments());
  ASSERT_TRUE(fixture.wait_settled(2, 30s)) << describe(fixture.deployments());
  probe.stop();
  EXPECT_GT(probe.requests(), 50);
  EXPECT_EQ(probe.failures(), 0) << "requests: " << probe.requests() << "\n" << probe.failed()
                                 << describe(fixture.deployments());

  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 2u) << describe(deployments);
  const DeploymentRecord& second = deployments[0];
  EXPECT_EQ(second.outcome, DeploymentState::succeeded) << describe(deployments);
  EXPECT_EQ(second.tag, "v2");
  EXPECT_EQ(states_of(second), (std::vector<std::string>{"queued", "starting", "health_checking", "verifying",
                                                         "switching", "baking", "draining", "retiring", "succeeded"}))
      << describe(deployments);
  EXPECT_NE(second.slot, deployments[1].slot);
  // Blue is stopped and kept (retain 1) for an instant rollback; green runs.
  auto containers = fixture.containers();
  EXPECT_EQ(containers[second.container], "running");
  EXPECT_EQ(containers[deployments[1].container], "exited") << describe(deployments) << fixture.server().log()
                                                           << testing::describe_containers(containers);

  // Every step reached both channels: the JSON webhook by event name, Slack with blocks.
  // Notices leave through the outbox a moment after each step: wait for the last one.
  std::vector<std::string> events;
  for (int i = 0; i < 200; ++i) {
    events = fixture.webhook_events();
    if (std::count(events.begin(), events.end(), "deployment.succeeded") >= 2) break;
    std::this_thread::sleep_for(50ms);
  }
  for (const char* step : {"deployment.starting", "deployment.health_checking", "deployment.switching",
                           "deployment.baking", "deployment.draining", "deployment.retiring", "deployment.succeeded"}) {
    EXPECT_EQ(std::count(events.begin(), events.end(), step), 2) << step;
  }
  ASSERT_TRUE(fixture.slack().wait_for(14, 10s));
  auto slack = nlohmann::json::parse(fixture.slack().messages().back().body, nullptr, false);
  ASSERT_TRUE(slack.is_object());
  EXPECT_TRUE(slack["blocks"].is_array());
  EXPECT_NE(slack.value("text", "").find("hello → production"), std::string::npos) << slack.dump();

  // A third version: retention removes the oldest container and keeps the one before.
  ASSERT_FALSE(fixture.push_version("v3").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v3", 30s)) << describe(fixture.deployments());
  ASSERT_TRUE(fixture.wait_settled(3, 30s));
  containers = fixture.containers();
  EXPECT_EQ(containers.count(deployments[1].container), 0u) << "v1's container should be removed";
  EXPECT_EQ(containers[second.container], "exited");
  // And v1's image with it: the Engine keeps the live version's and the retained one's only.
  auto third = fixture.deployments()[0];
  DockerContainerRuntime engine;
  auto has = [&](const std::string& image) {
    auto present = engine.has_image(image);
    EXPECT_TRUE(present) << (present ? "" : present.error().message);
    return present && *present;
  };
  for (int i = 0; i < 100 && has(deployments[1].image); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(has(deployments[1].image)) << "v1's image " << deployments[1].image << fixture.server().log();
  // What the server removed, it logged: never the retained version's image or the live one's.
  // (Only what this server did is asserted: the tests run side by side on one Engine, and one
  // of them removing images would make the Engine's state a race.)
  std::string log = fixture.server().log();
  bool removed_here = log.find("image retention: removed " + deployments[1].image) != std::string::npos;
  EXPECT_TRUE(removed_here || !has(deployments[1].image)) << log;
  EXPECT_EQ(log.find("image retention: removed " + second.image), std::string::npos) << log;
  EXPECT_EQ(log.find("image retention: removed " + third.image), std::string::npos) << log;
}

TEST(DeploymentTest, AWebSocketOnTheOldVersionLivesThroughTheSwitchUntilTheDrainEnds) {
  DeploymentFixture fixture(DeploySettings{.bake = "1s", .drain = "4s"});
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));
  WebSocketClient socket(fixture.router_listen());
  ASSERT_TRUE(socket.upgraded());
  EXPECT_EQ(socket.version(), "v1");
  EXPECT_EQ(socket.echo("before"), "before");

  ASSERT_FALSE(fixture.push_version("v2").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v2", 30s)) << describe(fixture.deployments());
  // New requests go to v2; the open WebSocket is still v1's, and still works (Kamal cuts it here).
  EXPECT_EQ(socket.echo("after the switch"), "after the switch");
  ASSERT_TRUE(fixture.wait_settled(2, 30s)) << describe(fixture.deployments());
  auto deployments = fixture.deployments();
  std::string drained;
  for (const auto& step : deployments[0].steps) {
    if (step.state == DeploymentState::retiring) drained = step.message;
  }
  EXPECT_NE(drained.find("drain window of 4.00s ended with 1 sessions open"), std::string::npos)
      << describe(deployments);
  // Once the drain window is over, the old version is stopped and says goodbye.
  EXPECT_EQ(socket.echo("too late"), "");
}

TEST(DeploymentTest, AFailingHealthCheckNeverMovesTraffic) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));

  TrafficProbe probe(fixture.router_listen());
  ASSERT_FALSE(fixture.push_version("broken", {{"HEALTH_FAIL", "1"}}).empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_settled(3, 30s)) << describe(fixture.deployments());
  probe.stop();
  EXPECT_EQ(probe.failures(), 0);
  EXPECT_EQ(fixture.live_version(), "v1");

  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 3u) << describe(deployments);
  const DeploymentRecord& broken = deployments[1];
  EXPECT_EQ(broken.tag, "broken");
  EXPECT_EQ(broken.outcome, DeploymentState::rolled_back);
  EXPECT_NE(broken.reason.find("503"), std::string::npos) << broken.reason;
  EXPECT_FALSE(contains(states_of(broken), "switching"));
  // The return to v1 is a deployment of its own, and it is what is live.
  EXPECT_EQ(deployments[0].kind, "rollback");
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded);
  EXPECT_EQ(deployments[0].tag, "v1");
  EXPECT_EQ(fixture.containers().count(broken.container), 0u);

  // Waits for the rolled_back notice itself (a generous deadline, only a hang guard).
  bool told = false;
  for (auto give_up = std::chrono::steady_clock::now() + 30s; !told && std::chrono::steady_clock::now() < give_up;) {
    for (const auto& message : fixture.webhook().messages()) {
      auto body = nlohmann::json::parse(message.body, nullptr, false);
      if (body.is_object() && body.value("event", "") == "deployment.rolled_back") {
        told = body.dump().find("503") != std::string::npos;
      }
    }
    if (!told) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(told) << "no rolled_back notice naming the failed check";
}

TEST(DeploymentTest, AFailingVerifyCommandRollsBackBeforeTheSwitch) {
  // Through the test listener, only a version whose name starts with "v" is accepted.
  DeploymentFixture fixture(DeploySettings{.verify = "curl -fsS \"$SLIPWAY_TEST_URL/\" | grep -q '^version v'"});
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));

  ASSERT_FALSE(fixture.push_version("unverified").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_settled(3, 30s)) << describe(fixture.deployments());
  EXPECT_EQ(fixture.live_version(), "v1");
  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 3u) << describe(deployments);
  EXPECT_EQ(deployments[1].outcome, DeploymentState::rolled_back);
  EXPECT_NE(deployments[1].reason.find("deploy.verify"), std::string::npos) << deployments[1].reason;
  EXPECT_TRUE(contains(states_of(deployments[1]), "verifying"));
  EXPECT_FALSE(contains(states_of(deployments[1]), "switching"));
}

// deploy.verify reaches the test listener and nothing else of the host: not another service on
// the host's loopback, not an abstract Unix socket of the host (both reachable from the host
// itself, checked first). Any breach makes the command fail, and the deployment with it.
TEST(DeploymentTest, AVerifyCommandReachesTheTestListenerAndNothingElseOfTheHost) {
  UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(tcp.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(tcp.get(), 8), 0);
  ASSERT_EQ(::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int host_port = ntohs(address.sin_port);
  const std::string abstract_name = "slipway-verify-test-" + std::to_string(::getpid());
  UniqueFd unix_socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un unix_address{};
  unix_address.sun_family = AF_UNIX;
  std::memcpy(unix_address.sun_path + 1, abstract_name.data(), abstract_name.size());
  socklen_t unix_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
  ASSERT_EQ(::bind(unix_socket.get(), reinterpret_cast<sockaddr*>(&unix_address), unix_length), 0);
  ASSERT_EQ(::listen(unix_socket.get(), 8), 0);
  // bash for /dev/tcp: the command runs under /bin/sh, which may be dash.
  const std::string tcp_probe = fmt::format("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{}'", host_port);
  const std::string unix_probe = fmt::format(
      "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{}')\"", abstract_name);
  // From the host both answer: the probes can succeed.
  ASSERT_EQ(run_command({"/bin/bash", "-c", tcp_probe})->exit_code, 0);
  ASSERT_EQ(run_command({"/bin/bash", "-c", unix_probe})->exit_code, 0);

  DeploymentFixture fixture(DeploySettings{
      .verify = fmt::format("curl -fsS \"$SLIPWAY_TEST_URL/\" | grep -q '^version v1' || {{ echo 'no test listener'; exit 1; }}; "
                            "if {} 2>/dev/null; then echo 'reached the host loopback'; exit 1; fi; "
                            "if {} 2>/dev/null; then echo 'reached a host abstract socket'; exit 1; fi",
                            tcp_probe, unix_probe)});
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_settled(1, 60s)) << describe(fixture.deployments()) << fixture.server().log();
  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 1u);
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded) << describe(deployments);
  EXPECT_EQ(fixture.live_version(), "v1") << describe(deployments);
}

// deploy.verify as an attacker's repository would write it: it dumps its environment and prints
// its deploy secret plain, base64-, URL- and JSON-encoded, then fails so that its output becomes
// the deployment's reason. What stops it: the command gets an environment made from scratch
// (nothing of the server's: no admin token), and its output is masked with the deployment's
// secrets before it reaches the reason, the steps and the chat notices.
TEST(DeploymentTest, AVerifyCommandSeesNothingOfTheServerAndItsOutputIsMaskedEverywhere) {
  DeploySettings settings;
  settings.repository_file = R"yaml(kind: application
test:
  suites:
    unit: { run: 'true' }
publish:
  image: { repository: hello }
deploy:
  health: { path: /health, interval: 200ms, timeout: 1s, healthy: 3, unhealthy: 2 }
  secrets: [API_KEY]
  verify: |
    env
    printf 'plain: %s\n' "$API_KEY"
    printf 'base64: %s\n' "$(printf %s "$API_KEY" | base64 -w0)"
    printf 'url: %s\n' "$(printf %s "$API_KEY" | sed 's/"/%22/g; s#/#%2F#g; s/+/%2B/g')"
    printf 'json: %s\n' "$(printf %s "$API_KEY" | sed 's/"/\\"/g')"
    exit 1
)yaml";
  DeploymentFixture fixture(settings);
  ASSERT_FIXTURE(fixture);
  ASSERT_TRUE(fixture.set_secret("*", "API_KEY", "Sup3r\"Secret/Key+Value")) << fixture.error();
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_settled(1, 60s)) << describe(fixture.deployments()) << fixture.server().log();
  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 1u) << describe(deployments);
  EXPECT_EQ(deployments[0].outcome, DeploymentState::failed) << describe(deployments);

  std::string shown = describe(deployments);  // the reason and every step's message
  for (const char* line : {"plain: ***", "base64: ***", "url: ***", "json: ***", "API_KEY=***"}) {
    EXPECT_NE(shown.find(line), std::string::npos) << line << " not in:\n" << shown;
  }
  EXPECT_NE(shown.find("SLIPWAY_TEST_URL="), std::string::npos) << shown;
  // The chat notices are built from the same texts; the failed one carries the reason.
  bool told = false;
  for (int i = 0; i < 100 && !told; ++i) {
    told = contains(fixture.webhook_events(), "deployment.failed");
    if (!told) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(told) << "no deployment.failed notice";
  for (const auto& message : fixture.webhook().messages()) shown += message.body;
  for (const auto& message : fixture.slack().messages()) shown += message.body;
  EXPECT_NE(shown.find("plain: ***"), std::string::npos);
  for (const char* leaked : {"Sup3r", "U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ", "%2FKey%2BValue", "Secret/Key+Value",
                             "SLIPWAY_ADMIN_TOKEN", DeploymentFixture::kAdminToken}) {
    EXPECT_EQ(shown.find(leaked), std::string::npos) << leaked << " in:\n" << shown;
  }
}

TEST(DeploymentTest, AFailureDuringTheBakeSwitchesTrafficBack) {
  DeploymentFixture fixture(DeploySettings{.bake = "4s"});
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));

  // Healthy for 1.5 s (the gate passes), then its /health fails during the bake.
  ASSERT_FALSE(fixture.push_version("flaky", {{"FAIL_AFTER_MS", "1500"}}).empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("flaky", 30s)) << describe(fixture.deployments());
  ASSERT_TRUE(fixture.wait_settled(3, 30s)) << describe(fixture.deployments());
  EXPECT_EQ(fixture.live_version(), "v1");
  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 3u) << describe(deployments);
  EXPECT_EQ(deployments[1].outcome, DeploymentState::rolled_back);
  EXPECT_NE(deployments[1].reason.find("bake"), std::string::npos) << deployments[1].reason;
  EXPECT_TRUE(contains(states_of(deployments[1]), "baking"));
  EXPECT_EQ(deployments[0].kind, "rollback");
  EXPECT_EQ(fixture.containers()[deployments[2].container], "running");
}

TEST(DeploymentTest, ANewerImageSupersedesOneNotYetSwitched) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));

  ASSERT_FALSE(fixture.push_version("slow", {{"START_DELAY_MS", "20000"}}).empty()) << fixture.error();
  // Wait until the slow one is being health-checked, then push the next.
  for (int i = 0; i < 200; ++i) {
    auto all = fixture.deployments();
    if (!all.empty() && all[0].tag == "slow" && all[0].state == DeploymentState::health_checking) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(fixture.push_version("v3").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v3", 30s)) << describe(fixture.deployments());
  ASSERT_TRUE(fixture.wait_settled(3, 30s)) << describe(fixture.deployments());
  auto deployments = fixture.deployments();
  ASSERT_EQ(deployments.size(), 3u) << describe(deployments);
  EXPECT_EQ(deployments[1].tag, "slow");
  EXPECT_EQ(deployments[1].outcome, DeploymentState::superseded) << describe(deployments);
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded);
  EXPECT_EQ(fixture.containers().count(deployments[1].container), 0u);
}

TEST(DeploymentTest, AServerKilledDuringTheBakeFinishesTheDeploymentOnRestart) {
  DeploymentFixture fixture(DeploySettings{.bake = "3s"});
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));
  pid_t haproxy = fixture.haproxy_pid();
  ASSERT_GT(haproxy, 0);

  ASSERT_FALSE(fixture.push_version("v2").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v2", 30s)) << describe(fixture.deployments());
  fixture.server().kill_hard();
  // Traffic does not depend on Slipway: HAProxy goes on serving v2 while the server is down.
  EXPECT_EQ(fixture.live_version(), "v2");

  fixture.start_server();
  ASSERT_EQ(fixture.error(), "");
  ASSERT_TRUE(fixture.wait_settled(2, 30s)) << describe(fixture.deployments()) << fixture.server().log();
  auto deployments = fixture.deployments();
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded) << describe(deployments);
  EXPECT_EQ(fixture.live_version(), "v2");
  EXPECT_EQ(fixture.haproxy_pid(), haproxy) << "the restarted server should adopt the running HAProxy";
  // v2 running, v1 stopped and retained: nothing else.
  auto containers = fixture.containers();
  EXPECT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[deployments[0].container], "running");
  EXPECT_EQ(containers[deployments[1].container], "exited");
}

TEST(DeploymentTest, AServerKilledBeforeTheSwitchReplacesGreenOnRestart) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));

  // A slow start keeps the deployment in health_checking long enough to kill the server there.
  ASSERT_FALSE(fixture.push_version("v2", {{"START_DELAY_MS", "3000"}}).empty()) << fixture.error();
  bool checking = false;
  std::string green;
  for (int i = 0; i < 300 && !checking; ++i) {
    auto all = fixture.deployments();
    checking = !all.empty() && all[0].tag == "v2" && all[0].state == DeploymentState::health_checking;
    if (checking) green = all[0].container;
    else std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(checking) << describe(fixture.deployments());
  fixture.server().kill_hard();
  EXPECT_EQ(fixture.live_version(), "v1") << "traffic stays on v1 while the server is down";

  fixture.start_server();
  ASSERT_EQ(fixture.error(), "");
  ASSERT_TRUE(fixture.wait_for_live_version("v2", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(2, 30s)) << describe(fixture.deployments());
  auto deployments = fixture.deployments();
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded) << describe(deployments);
  // The restarted server checked the green that kept running while it was down, and used it.
  EXPECT_EQ(deployments[0].container, green);
  auto containers = fixture.containers();
  EXPECT_EQ(containers[green], "running");
  EXPECT_EQ(containers.size(), 2u) << testing::describe_containers(containers);
}

TEST(DeploymentTest, ARestartedServerBringsBackARouterThatDidNotSurvive) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));
  // The server stops, then HAProxy goes too (a reboot would take both).
  fixture.server().stop();
  pid_t haproxy = fixture.haproxy_pid();
  ASSERT_GT(haproxy, 0);
  kill(haproxy, SIGTERM);
  for (int i = 0; i < 100 && kill(haproxy, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fixture.live_version(), "");

  fixture.start_server();
  ASSERT_EQ(fixture.error(), "");
  EXPECT_TRUE(fixture.wait_for_live_version("v1", 20s)) << fixture.server().log();
  EXPECT_NE(fixture.haproxy_pid(), haproxy);
}

TEST(DeploymentTest, ALostNotificationIsMadeUpForByTheRegistryPoll) {
  DeploymentFixture fixture(DeploySettings{.poll_interval = "1s", .notifications = false});
  ASSERT_EQ(fixture.error(), "");
  // The poll reads the `latest` tag.
  ASSERT_FALSE(fixture.push_version("latest").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("latest", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));
  EXPECT_EQ(fixture.deployments()[0].outcome, DeploymentState::succeeded);
}

TEST(DeploymentTest, RollbackOnRequestReturnsToThePreviousVersion) {
  DeploymentFixture fixture;
  ASSERT_EQ(fixture.error(), "");
  ASSERT_FALSE(fixture.push_version("v1").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments()) << fixture.server().log();
  ASSERT_TRUE(fixture.wait_settled(1, 30s));
  // One version only: nothing to go back to, said so.
  testing::HttpAnswer refused = testing::http_request(
      fixture.server().address(), "POST", "/api/v1/deployments/rollback",
      {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken}},
      R"({"application":"hello","environment":"production"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("no earlier one"), std::string::npos) << refused.body;

  ASSERT_FALSE(fixture.push_version("v2").empty()) << fixture.error();
  ASSERT_TRUE(fixture.wait_for_live_version("v2", 30s));
  ASSERT_TRUE(fixture.wait_settled(2, 30s));
  std::string retained = fixture.deployments()[1].container;

  testing::HttpAnswer answer = testing::http_request(
      fixture.server().address(), "POST", "/api/v1/deployments/rollback",
      {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken}, {"Content-Type", "application/json"}},
      R"({"application":"hello","environment":"production","reason":"checkout is slow"})");
  ASSERT_EQ(answer.status, 202) << answer.body;
  ASSERT_TRUE(fixture.wait_for_live_version("v1", 30s)) << describe(fixture.deployments());
  ASSERT_TRUE(fixture.wait_settled(3, 30s));
  auto deployments = fixture.deployments();
  EXPECT_EQ(deployments[0].kind, "rollback");
  EXPECT_EQ(deployments[0].outcome, DeploymentState::succeeded) << describe(deployments);
  EXPECT_EQ(deployments[0].container, retained) << "the retained container is started again, not made anew";
  EXPECT_EQ(fixture.containers()[retained], "running");

  // The same through the CLI, waiting: back to v2, and the outcome line ends the wait.
  CommandOutput waited = testing::run_with_input(
      {SLIPWAY_BINARY, "deploy", "rollback", "hello", "production", "--reason", "v1 was fine after all", "--wait"}, "",
      {{"SLIPWAY_SERVER", "http://" + fixture.server().address()},
       {"SLIPWAY_TOKEN", DeploymentFixture::kAdminToken}, {"NO_COLOR", "1"}});
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  EXPECT_NE(waited.out.find("Deployment #4 succeeded: v1 was fine after all\n"), std::string::npos) << waited.out;
  EXPECT_EQ(fixture.live_version(), "v2");

  // An application that is not configured is refused with its name.
  answer = testing::http_request(fixture.server().address(), "POST", "/api/v1/deployments/rollback",
                                 {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken}},
                                 R"({"application":"nothing","environment":"production"})");
  EXPECT_EQ(answer.status, 404) << answer.body;
  EXPECT_NE(answer.body.find("nothing"), std::string::npos);
}

}  // namespace
}  // namespace slipway
