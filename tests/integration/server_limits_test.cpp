// The real `slipway serve` under load it must bound: 200 concurrent live log follows (past
// max_log_follows: 503 with what to do; no thread per follow; other requests still answered),
// a step printing far past max_log_bytes (cut, one marker, the step's reason says so), and the
// background retention pass at start.
#include <gtest/gtest.h>

#include <poll.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

const std::string kAdminToken = "integration-admin-token-long-enough-0123456789";

int threads_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// The status line and head of an answer (for a 503, its body too: the server closes after it).
std::string read_head(int fd) {
  std::string raw;
  char buffer[4096];
  while (raw.find("\r\n\r\n") == std::string::npos || (raw.find(" 503 ") != std::string::npos && raw.find('}') == std::string::npos)) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 10'000) <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  return raw;
}

class ServerLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repository_ = new ScratchRepository();
    repository_->write(".slipway.yml", "kind: library\ntest:\n  suites:\n"
                                       "    chatty: { run: \"seq 1 100000; echo done >&2\" }\n");
    repository_->commit();
    slow_ = new ScratchRepository();
    slow_->write(".slipway.yml", "kind: library\ntest:\n  suites:\n    slow: { run: \"echo started; sleep 120\" }\n");
    slow_->commit();
    data_ = new TemporaryDirectory("slipway-limits-data");
    std::ofstream(data_->path() / "slipway.yml")
        << "executor: host\nmax_log_follows: 150\nmax_log_bytes: 4k\nrepositories:\n"
        << "  - { name: chatty, url: " << repository_->path().string() << ", poll_interval: 0s }\n"
        << "  - { name: slow, url: " << slow_->path().string() << ", poll_interval: 0s }\n";
    server_ = new ServerProcess({"--config", (data_->path() / "slipway.yml").string(), "--data-dir",
                                 (data_->path() / "data").string()},
                                kAdminToken);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete data_;
    delete slow_;
    delete repository_;
  }

  static HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "") {
    return http_request(server_->address(), method, target, {{"Authorization", "Bearer " + kAdminToken}}, body);
  }
  static nlohmann::json json_of(const HttpAnswer& answer) { return nlohmann::json::parse(answer.body, nullptr, false); }
  static int64_t trigger(const std::string& repository) {
    HttpAnswer triggered = call("POST", "/api/v1/repositories/" + repository + "/trigger", "{}");
    EXPECT_EQ(triggered.status, 201) << triggered.body;
    return json_of(triggered).value("id", int64_t{0});
  }
  // Polls the run until `done` says so (at most 30 s).
  static nlohmann::json wait_for(int64_t id, const std::function<bool(const nlohmann::json&)>& done) {
    nlohmann::json run;
    for (int i = 0; i < 300; ++i) {
      run = json_of(call("GET", "/api/v1/runs/" + std::to_string(id)));
      if (done(run)) return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not get there in 30 s: " << run.dump(2);
    return run;
  }

  static ScratchRepository* repository_;
  static ScratchRepository* slow_;
  static TemporaryDirectory* data_;
  static ServerProcess* server_;
};

ScratchRepository* ServerLimits::repository_ = nullptr;
ScratchRepository* ServerLimits::slow_ = nullptr;
TemporaryDirectory* ServerLimits::data_ = nullptr;
ServerProcess* ServerLimits::server_ = nullptr;

TEST_F(ServerLimits, TwoHundredFollowsAreServedOrRefused503WithoutAThreadEach) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  int64_t id = trigger("slow");
  nlohmann::json run = wait_for(id, [](const nlohmann::json& r) {
    return r.value("status", "") == "running" && !r["jobs"].empty() && r["jobs"][0]["steps"][0].value("status", "") == "running";
  });
  int64_t step = run["jobs"][0]["steps"][0]["id"];
  int before = threads_of(server_->pid());
  ASSERT_GT(before, 0);

  std::vector<int> follows;
  std::string request = "GET /api/v1/steps/" + std::to_string(step) + "/log/follow HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " + kAdminToken + "\r\n\r\n";
  for (int i = 0; i < 200; ++i) {
    int fd = connect_to(server_->address());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    follows.push_back(fd);
  }
  int served = 0, refused = 0;
  std::string refusal;
  for (int fd : follows) {
    std::string head = read_head(fd);
    if (head.rfind("HTTP/1.1 200", 0) == 0) ++served;
    if (head.rfind("HTTP/1.1 503", 0) == 0) ++refused, refusal = head;
  }
  EXPECT_EQ(served, 150);
  EXPECT_EQ(refused, 50);
  EXPECT_NE(refusal.find("max_log_follows"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("GET /api/v1/steps/" + std::to_string(step) + "/log?offset=N"), std::string::npos) << refusal;
  // 150 open follows, and the server has no more threads than before them; it answers the rest.
  EXPECT_LE(threads_of(server_->pid()), before);
  EXPECT_EQ(call("GET", "/api/v1/runs?limit=5").status, 200);

  for (int fd : follows) close(fd);
  EXPECT_EQ(call("POST", "/api/v1/runs/" + std::to_string(id) + "/cancel", "{}").status, 202);
  wait_for(id, [](const nlohmann::json& r) { return r.value("status", "") == "cancelled"; });
  // The follows' places are given back as their clients leave: a new one is served.
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    status = call("GET", "/api/v1/steps/" + std::to_string(step) + "/log/follow").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerLimits, AStepsLogIsCutAtMaxLogBytesAndItsReasonSaysSo) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  int64_t id = trigger("chatty");
  nlohmann::json run = wait_for(id, [](const nlohmann::json& r) {
    std::string status = r.value("status", "");
    return status != "queued" && status != "running";
  });
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2);  // the step kept running to its end
  nlohmann::json step = run["jobs"][0]["steps"][0];
  std::string reason = step.value("reason", "");
  EXPECT_NE(reason.find("log truncated at max_log_bytes (4 KiB)"), std::string::npos) << step.dump(2);
  EXPECT_NE(reason.find("of further output dropped"), std::string::npos) << reason;

  nlohmann::json log = json_of(call("GET", "/api/v1/steps/" + std::to_string(step["id"].get<int64_t>()) + "/log"));
  EXPECT_LE(log["size"].get<int64_t>(), 4096 + 512);
  int markers = 0;
  for (const auto& line : log["lines"]) {
    if (line.value("text", "").find("log truncated: max_log_bytes (4 KiB) reached") != std::string::npos) ++markers;
  }
  EXPECT_EQ(markers, 1) << log.dump(2);
  EXPECT_EQ(log["lines"][0]["text"], "1");
  EXPECT_NE(log["lines"].back()["text"].get<std::string>().find("chatty passed"), std::string::npos) << log.dump(2);
}

}  // namespace
}  // namespace slipway::testing
