// `anonymous_read` in the server configuration (docs/server.md, docs/api.md): with `true`, every
// GET route (the API's reads and /metrics) answers without a token while POST routes and the
// admin routes still need one; with `false`, a GET without a token is 401. The web UI's page and
// assets are public in both, since they hold no data. Each setting gets its own real
// `slipway serve` on a free port with a configured repository.
#include <gtest/gtest.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

const std::string kAdminToken = "anonymous-test-admin-token-0123456789abcdef";

// A server with `anonymous_read: <anonymous_read>` and one repository, `demo`, whose Test is one
// suite that prints a line and writes a summary; stopped (server first) when destroyed.
class ConfiguredServer {
 public:
  // `extra`: more top-level keys for the configuration.
  explicit ConfiguredServer(bool anonymous_read, const std::string& extra = "") : data_("slipway-anonymous") {
    repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo anonymous-read\" }\n");
    repository_.commit();
    std::ofstream(data_.path() / "slipway.yml")
        << "executor: host\n" << extra << "anonymous_read: " << (anonymous_read ? "true" : "false")
        << "\nrepositories:\n  - { name: demo, url: " << repository_.path().string()
        << ", main: main, poll_interval: 0s }\n";
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (data_.path() / "slipway.yml").string(), "--data-dir",
                                 (data_.path() / "data").string()},
        kAdminToken);
  }
  ~ConfiguredServer() { server_.reset(); }

  const ServerProcess& process() const { return *server_; }

  // `token` empty: no Authorization header at all.
  HttpAnswer call(const std::string& method, const std::string& target, const std::string& token = "",
                  const std::string& body = "") const {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return http_request(server_->address(), method, target, headers, body);
  }

  // A run of `demo` triggered with the admin token and waited for; returns its detail as the
  // admin sees it.
  nlohmann::json finished_run() const {
    HttpAnswer triggered = call("POST", "/api/v1/repositories/demo/trigger", kAdminToken, "{}");
    EXPECT_EQ(triggered.status, 201) << triggered.body;
    int64_t id = json_of(triggered).value("id", int64_t{0});
    for (int i = 0; i < 300; ++i) {
      nlohmann::json run = json_of(call("GET", "/api/v1/runs/" + std::to_string(id), kAdminToken));
      std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not finish in 30 s";
    return {};
  }

  // A token with `role`, made through the API with the admin token.
  std::string token_with_role(const std::string& role) const {
    HttpAnswer created = call("POST", "/api/v1/tokens", kAdminToken,
                              nlohmann::json{{"name", role + "-token"}, {"role", role}}.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return json_of(created).value("token", "");
  }

  static nlohmann::json json_of(const HttpAnswer& answer) { return nlohmann::json::parse(answer.body, nullptr, false); }

 private:
  ScratchRepository repository_;
  TemporaryDirectory data_;
  std::unique_ptr<ServerProcess> server_;
};

// The JSON error a refusal carries: the UI and the CLI show it.
std::string error_of(const HttpAnswer& answer) {
  return ConfiguredServer::json_of(answer).value("error", "");
}

// The page and its assets answer without a token in both settings.
void expect_ui_is_public(const ConfiguredServer& server) {
  HttpAnswer page = server.call("GET", "/");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.head.find("text/html"), std::string::npos) << page.head;
  EXPECT_NE(page.body.find("/assets/app.js"), std::string::npos) << page.body;
  EXPECT_EQ(server.call("GET", "/index.html").status, 200);
  HttpAnswer script = server.call("GET", "/assets/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_NE(script.head.find("javascript"), std::string::npos) << script.head;
  EXPECT_EQ(server.call("GET", "/assets/no-such-file.js").status, 404);
}

// ---------------------------------------------------------------------------------------------
// anonymous_read: true

class AnonymousReadOn : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ConfiguredServer(true);
    if (!server_->process().address().empty()) run_ = new nlohmann::json(server_->finished_run());
  }
  static void TearDownTestSuite() {
    delete run_;
    delete server_;
  }
  void SetUp() override {
    ASSERT_FALSE(server_->process().address().empty()) << server_->process().log();
    ASSERT_NE(run_, nullptr);
    ASSERT_EQ(run_->value("status", ""), "passed") << run_->dump(2);
  }

  static std::string run_path() { return "/api/v1/runs/" + std::to_string((*run_)["id"].get<int64_t>()); }
  static std::string step_path() {
    return "/api/v1/steps/" + std::to_string((*run_)["jobs"][0]["steps"].back()["id"].get<int64_t>());
  }

  static ConfiguredServer* server_;
  static nlohmann::json* run_;
};

ConfiguredServer* AnonymousReadOn::server_ = nullptr;
nlohmann::json* AnonymousReadOn::run_ = nullptr;

TEST_F(AnonymousReadOn, EveryGetRouteAnswersWithoutAToken) {
  HttpAnswer runs = server_->call("GET", "/api/v1/runs");
  ASSERT_EQ(runs.status, 200) << runs.body;
  nlohmann::json listed = ConfiguredServer::json_of(runs);
  ASSERT_EQ(listed["runs"].size(), 1u) << runs.body;
  EXPECT_EQ(listed["runs"][0]["id"], (*run_)["id"]);

  HttpAnswer repositories = server_->call("GET", "/api/v1/repositories");
  ASSERT_EQ(repositories.status, 200) << repositories.body;
  EXPECT_EQ(ConfiguredServer::json_of(repositories)["repositories"][0]["name"], "demo");
  HttpAnswer repository = server_->call("GET", "/api/v1/repositories/demo");
  ASSERT_EQ(repository.status, 200) << repository.body;
  EXPECT_EQ(ConfiguredServer::json_of(repository)["main_branch"], "main");

  HttpAnswer detail = server_->call("GET", run_path());
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(ConfiguredServer::json_of(detail)["status"], "passed");
  EXPECT_EQ(server_->call("GET", run_path() + "/report").status, 200);
  EXPECT_EQ(server_->call("GET", run_path() + "/report.html").status, 200);

  HttpAnswer log = server_->call("GET", step_path() + "/log");
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("anonymous-read"), std::string::npos) << log.body;
  HttpAnswer follow = server_->call("GET", step_path() + "/log/follow?offset=0");
  ASSERT_EQ(follow.status, 200) << follow.body;
  EXPECT_NE(follow.head.find("text/event-stream"), std::string::npos) << follow.head;
  EXPECT_NE(follow.body.find("event: end"), std::string::npos) << follow.body;

  EXPECT_EQ(server_->call("GET", "/api/v1/events").status, 200);
  // A read that fails for another reason still says so, rather than asking for a token.
  EXPECT_EQ(server_->call("GET", "/api/v1/runs/999999").status, 404);
  EXPECT_EQ(server_->call("GET", "/api/v1/repositories/nope").status, 404);
}

TEST_F(AnonymousReadOn, MetricsAnswerWithoutAToken) {
  HttpAnswer metrics = server_->call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("slipway_runs{status=\"passed\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("slipway_queue_length"), std::string::npos) << metrics.body;
}

TEST_F(AnonymousReadOn, PostRoutesStillNeedAToken) {
  HttpAnswer trigger = server_->call("POST", "/api/v1/repositories/demo/trigger", "", "{}");
  EXPECT_EQ(trigger.status, 401) << trigger.body;
  EXPECT_NE(error_of(trigger).find("needs a token"), std::string::npos) << trigger.body;
  EXPECT_EQ(server_->call("POST", "/api/v1/repositories/demo/trigger").status, 401);
  EXPECT_EQ(server_->call("POST", run_path() + "/rerun").status, 401);
  EXPECT_EQ(server_->call("POST", run_path() + "/cancel").status, 401);
  EXPECT_EQ(server_->call("POST", "/api/v1/repositories/demo/push", "",
                          R"({"ref": "refs/heads/main", "before": "", "after": ""})").status, 401);
  // No run was queued by any of them.
  nlohmann::json runs = ConfiguredServer::json_of(server_->call("GET", "/api/v1/runs"));
  EXPECT_EQ(runs["runs"].size(), 1u) << runs.dump();
}

TEST_F(AnonymousReadOn, AdminRoutesStillNeedAnAdminToken) {
  EXPECT_EQ(server_->call("GET", "/api/v1/tokens").status, 401);
  EXPECT_EQ(server_->call("POST", "/api/v1/tokens", "", R"({"name": "x", "role": "admin"})").status, 401);
  EXPECT_EQ(server_->call("GET", "/api/v1/tokens", kAdminToken).status, 200);
}

TEST_F(AnonymousReadOn, TokensStillCountWhenSent) {
  // A wrong token is refused, not treated as anonymous: a typo should not pass unnoticed.
  EXPECT_EQ(server_->call("GET", "/api/v1/runs", "not-a-token").status, 401);
  EXPECT_EQ(server_->call("GET", "/metrics", "not-a-token").status, 401);
  std::string reader = server_->token_with_role("read-only");
  ASSERT_FALSE(reader.empty());
  EXPECT_EQ(server_->call("GET", "/api/v1/runs", reader).status, 200);
  HttpAnswer forbidden = server_->call("POST", "/api/v1/repositories/demo/trigger", reader, "{}");
  EXPECT_EQ(forbidden.status, 403) << forbidden.body;
  std::string deployer = server_->token_with_role("deployer");
  ASSERT_FALSE(deployer.empty());
  HttpAnswer triggered = server_->call("POST", "/api/v1/repositories/demo/trigger", deployer, "{}");
  EXPECT_EQ(triggered.status, 201) << triggered.body;
}

TEST_F(AnonymousReadOn, TheUiIsServedWithoutAToken) { expect_ui_is_public(*server_); }

// ---------------------------------------------------------------------------------------------
// anonymous_read: false

class AnonymousReadOff : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ConfiguredServer(false); }
  static void TearDownTestSuite() { delete server_; }
  void SetUp() override { ASSERT_FALSE(server_->process().address().empty()) << server_->process().log(); }

  static ConfiguredServer* server_;
};

ConfiguredServer* AnonymousReadOff::server_ = nullptr;

TEST_F(AnonymousReadOff, EveryGetRouteNeedsAToken) {
  nlohmann::json run = server_->finished_run();
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2);
  std::string run_path = "/api/v1/runs/" + std::to_string(run["id"].get<int64_t>());
  std::string step_path = "/api/v1/steps/" + std::to_string(run["jobs"][0]["steps"].back()["id"].get<int64_t>());
  for (const std::string& target :
       {std::string("/api/v1/runs"), std::string("/api/v1/repositories"), std::string("/api/v1/repositories/demo"),
        run_path, run_path + "/report", run_path + "/report.html", step_path + "/log",
        step_path + "/log/follow?offset=0", std::string("/api/v1/events"), std::string("/metrics"),
        // Refused before anything is looked up: an anonymous caller learns nothing.
        std::string("/api/v1/runs/999999"), std::string("/api/v1/repositories/nope")}) {
    HttpAnswer answer = server_->call("GET", target);
    EXPECT_EQ(answer.status, 401) << target << ": " << answer.body;
    EXPECT_NE(error_of(answer).find("needs a token"), std::string::npos) << target << ": " << answer.body;
  }
  // The same reads with a read-only token.
  std::string reader = server_->token_with_role("read-only");
  ASSERT_FALSE(reader.empty());
  EXPECT_EQ(server_->call("GET", "/api/v1/runs", reader).status, 200);
  EXPECT_EQ(server_->call("GET", run_path, reader).status, 200);
  EXPECT_EQ(server_->call("GET", step_path + "/log", reader).status, 200);
  HttpAnswer metrics = server_->call("GET", "/metrics", reader);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("slipway_runs{status=\"passed\"} 1"), std::string::npos) << metrics.body;
}

// Badges are for READMEs, which readers see without a token: public unless the server says not.
TEST_F(AnonymousReadOff, TheBadgeIsPublicAndSaysTheBranchsLastResult) {
  ASSERT_EQ(server_->finished_run().value("status", ""), "passed");
  HttpAnswer badge = server_->call("GET", "/badge/demo.svg?branch=main");
  EXPECT_EQ(badge.status, 200) << badge.body;
  EXPECT_NE(badge.head.find("image/svg+xml"), std::string::npos) << badge.head;
  EXPECT_NE(badge.head.find("no-cache"), std::string::npos) << badge.head;
  EXPECT_NE(badge.body.find("demo: passing"), std::string::npos) << badge.body;
  EXPECT_NE(server_->call("GET", "/badge/demo.svg").body.find("demo: passing"), std::string::npos) << "main by default";
  EXPECT_NE(server_->call("GET", "/badge/demo.svg?branch=other").body.find("demo: unknown"), std::string::npos);
  HttpAnswer unknown = server_->call("GET", "/badge/nope.svg");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.find("demo"), std::string::npos) << "the 404 lists no repository: " << unknown.body;
  EXPECT_EQ(server_->call("GET", "/badge/demo.png").status, 404);
}

TEST(PrivateBadges, NeedAReadToken) {
  ConfiguredServer server(false, "badges: private\n");
  ASSERT_FALSE(server.process().address().empty()) << server.process().log();
  EXPECT_EQ(server.call("GET", "/badge/demo.svg").status, 401);
  std::string reader = server.token_with_role("read-only");
  HttpAnswer badge = server.call("GET", "/badge/demo.svg", reader);
  EXPECT_EQ(badge.status, 200) << badge.body;
  EXPECT_NE(badge.body.find("demo: unknown"), std::string::npos) << badge.body;
}

TEST_F(AnonymousReadOff, PostRoutesNeedAToken) {
  EXPECT_EQ(server_->call("POST", "/api/v1/repositories/demo/trigger", "", "{}").status, 401);
  EXPECT_EQ(server_->call("POST", "/api/v1/runs/1/rerun").status, 401);
  EXPECT_EQ(server_->call("POST", "/api/v1/runs/1/cancel").status, 401);
  EXPECT_EQ(server_->call("GET", "/api/v1/tokens").status, 401);
  EXPECT_EQ(server_->call("GET", "/api/v1/runs", "not-a-token").status, 401);
}

TEST_F(AnonymousReadOff, TheUiIsServedWithoutAToken) { expect_ui_is_public(*server_); }

}  // namespace
}  // namespace slipway::testing
