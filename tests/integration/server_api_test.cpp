// The real `slipway serve` on a free port with a temporary data directory and a configured
// repository, driven over HTTP: trigger a run, follow it to the end, read its detail, logs
// (range, tail, SSE follow) and report; the refusals (401, 403, 400, 404, 413); /metrics.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

const std::string kAdminToken = "integration-admin-token-0123456789abcdef";

class ServerApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repository_ = new ScratchRepository();
    repository_->write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo hi; echo second line\" }\n");
    repository_->commit();
    data_ = new TemporaryDirectory("slipway-serve-data");
    std::ofstream(data_->path() / "slipway.yml")
        << "executor: host\nmax_body_bytes: 4096\nrepositories:\n  - { name: demo, url: " << repository_->path().string()
        << ", main: main }\n";
    server_ = new ServerProcess({"--config", (data_->path() / "slipway.yml").string(), "--data-dir",
                                 (data_->path() / "data").string()},
                                kAdminToken);
  }
  static void TearDownTestSuite() {
    delete server_;  // stops the server first, whatever happened in the tests
    delete data_;
    delete repository_;
  }

  static HttpAnswer call(const std::string& method, const std::string& target, const std::string& token = kAdminToken,
                         const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_request(server_->address(), method, target, headers, body);
  }
  static nlohmann::json json_of(const HttpAnswer& answer) { return nlohmann::json::parse(answer.body, nullptr, false); }

  // Triggers a run of `demo` and waits for it to finish; returns its detail.
  static nlohmann::json finished_run() {
    HttpAnswer triggered = call("POST", "/api/v1/repositories/demo/trigger", kAdminToken, "{}");
    EXPECT_EQ(triggered.status, 201) << triggered.body;
    int64_t id = json_of(triggered).value("id", int64_t{0});
    for (int i = 0; i < 300; ++i) {
      nlohmann::json run = json_of(call("GET", "/api/v1/runs/" + std::to_string(id)));
      std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not finish in 30 s";
    return {};
  }

  static ScratchRepository* repository_;
  static TemporaryDirectory* data_;
  static ServerProcess* server_;
};

ScratchRepository* ServerApi::repository_ = nullptr;
TemporaryDirectory* ServerApi::data_ = nullptr;
ServerProcess* ServerApi::server_ = nullptr;

TEST_F(ServerApi, TriggeredRunPassesWithDetailLogsAndReport) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  nlohmann::json run = finished_run();
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2);
  EXPECT_EQ(run["trigger"], "manual");
  ASSERT_EQ(run["jobs"].size(), 1u);
  nlohmann::json step = run["jobs"][0]["steps"].back();
  EXPECT_EQ(step["name"], "unit");
  EXPECT_EQ(step["exit_code"], 0);
  std::string step_log = "/api/v1/steps/" + std::to_string(step["id"].get<int64_t>()) + "/log";

  nlohmann::json log = json_of(call("GET", step_log));
  ASSERT_GE(log["lines"].size(), 2u) << log.dump();
  EXPECT_EQ(log["lines"][0]["text"], "hi");
  EXPECT_EQ(log["lines"][0]["stream"], "stdout");
  EXPECT_TRUE(log["complete"].get<bool>());
  EXPECT_EQ(log["next_offset"], log["size"]);

  // A range from the second record on, and the tail, both aligned to records.
  int64_t second = json_of(call("GET", step_log + "?limit=1"))["next_offset"];
  nlohmann::json rest = json_of(call("GET", step_log + "?offset=" + std::to_string(second)));
  EXPECT_EQ(rest["lines"][0]["text"], "second line");
  nlohmann::json tail = json_of(call("GET", step_log + "?tail=10"));
  EXPECT_EQ(tail["lines"].back()["text"], log["lines"].back()["text"]);
  EXPECT_EQ(tail["next_offset"], log["size"]);
  EXPECT_EQ(call("GET", step_log + "?limit=-5").status, 400);

  HttpAnswer follow = call("GET", step_log + "/follow");
  EXPECT_EQ(follow.status, 200);
  EXPECT_NE(follow.head.find("text/event-stream"), std::string::npos);
  EXPECT_NE(follow.body.find("event: line\ndata: {"), std::string::npos);
  EXPECT_NE(follow.body.find("\"text\":\"hi\""), std::string::npos);
  EXPECT_NE(follow.body.find("event: end"), std::string::npos);

  std::string run_path = "/api/v1/runs/" + std::to_string(run["id"].get<int64_t>());
  nlohmann::json report = json_of(call("GET", run_path + "/report"));
  EXPECT_EQ(report.value("repository", ""), "demo");
  HttpAnswer html = call("GET", run_path + "/report.html");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.head.find("text/html"), std::string::npos);

  nlohmann::json list = json_of(call("GET", "/api/v1/runs?repository=demo&limit=50"));
  ASSERT_FALSE(list["runs"].empty());
  EXPECT_EQ(list["runs"][0]["id"], run["id"]);
  nlohmann::json repository = json_of(call("GET", "/api/v1/repositories/demo"));
  EXPECT_EQ(repository["last_run"]["id"], run["id"]);
  EXPECT_FALSE(json_of(call("GET", "/api/v1/events"))["events"].empty());

  HttpAnswer metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("slipway_runs{status=\"passed\"} "), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("slipway_runs{status=\"passed\"} 0"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("slipway_step_duration_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.body.find("slipway_http_requests_total{code=\"200\"}"), std::string::npos);
  // The data directory's size, measured at start: the database at least is there.
  EXPECT_NE(metrics.body.find("slipway_disk_bytes{area=\"database\"} "), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("slipway_disk_bytes{area=\"database\"} 0\n"), std::string::npos) << metrics.body;
  EXPECT_NE(server_->log().find("data "), std::string::npos) << "the start-up line says the disk used";
}

TEST_F(ServerApi, RefusesMissingBadAndUnderprivilegedTokens) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  EXPECT_EQ(call("GET", "/api/v1/runs", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/runs", "not-a-token").status, 401);
  EXPECT_EQ(call("GET", "/metrics", "").status, 401);
  HttpAnswer created = call("POST", "/api/v1/tokens", kAdminToken, R"({"name": "reader", "role": "read-only"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string reader = json_of(created)["token"];
  EXPECT_EQ(call("GET", "/api/v1/runs", reader).status, 200);
  HttpAnswer forbidden = call("POST", "/api/v1/repositories/demo/trigger", reader, "{}");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_TRUE(json_of(forbidden).contains("error"));
  EXPECT_EQ(call("GET", "/api/v1/tokens", reader).status, 403);
}

TEST_F(ServerApi, RefusesBadInput) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  EXPECT_EQ(call("POST", "/api/v1/repositories/demo/trigger", kAdminToken, "{not json").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/repositories/demo/trigger", kAdminToken, R"({"commit": 5})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/repositories/nope/trigger", kAdminToken, "{}").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/repositories/nope").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/runs/999999").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/runs?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/runs?before=x").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/no-such-thing").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/runs/%zz").status, 400);
  HttpAnswer oversized = call("POST", "/api/v1/repositories/demo/trigger", kAdminToken, std::string(100000, 'x'));
  EXPECT_EQ(oversized.status, 413);
  // The server is still serving after all that.
  EXPECT_EQ(call("GET", "/api/v1/runs").status, 200);
}

// The paging and {id} readers the run, deployment and task-run routes share (api_json.h): the
// words of each refusal, and a short page's null "next_before".
TEST_F(ServerApi, PagingAndMissingRecordsAreWordedOnce) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  HttpAnswer limit = call("GET", "/api/v1/runs?limit=1001");
  EXPECT_EQ(limit.status, 400);
  EXPECT_EQ(json_of(limit)["error"], "'limit' must be a whole number from 1 to 1000, not '1001'");
  HttpAnswer before = call("GET", "/api/v1/runs?before=x");
  EXPECT_EQ(json_of(before)["error"], "'before' must be a whole number from 1 to 9223372036854775807, not 'x'");
  HttpAnswer missing = call("GET", "/api/v1/runs/999999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json_of(missing)["error"], "no run #999999 (GET /api/v1/runs lists them)");
  HttpAnswer page = call("GET", "/api/v1/runs?limit=5");
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_LT(json_of(page)["runs"].size(), 5u);
  EXPECT_TRUE(json_of(page)["next_before"].is_null());
}

TEST_F(ServerApi, DeletingATokenThatDoesNotExistIs404) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  HttpAnswer created = call("POST", "/api/v1/tokens", kAdminToken, R"({"name": "short-lived", "role": "read-only"})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = 0;
  nlohmann::json tokens = json_of(call("GET", "/api/v1/tokens"));
  for (const auto& token : tokens["tokens"]) {
    if (token.value("name", "") == "short-lived") id = token.value("id", int64_t{0});
  }
  ASSERT_GT(id, 0) << tokens.dump();
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + std::to_string(id)).status, 200);
  HttpAnswer again = call("DELETE", "/api/v1/tokens/" + std::to_string(id));
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_NE(json_of(again).value("error", "").find("no API token " + std::to_string(id)), std::string::npos) << again.body;
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/999999").status, 404);
}

TEST_F(ServerApi, StopsGracefullyOnSigterm) {
  ASSERT_FALSE(server_->address().empty()) << server_->log();
  EXPECT_EQ(server_->stop(), 0) << server_->log();
}

}  // namespace
}  // namespace slipway::testing
