// The deployment routes of a real `slipway serve` over deployments its own DeploymentController
// made — on dockerd, through the registry's notifications, behind HAProxy (DeploymentFixture):
// v1 deployed, a broken version rolled back, and v1 live again as a rollback deployment. The list
// and its filters and pages, the current versions, one deployment with its steps, the rollback
// route's refusals, and `slipway deploy status|history|show|rollback` against the same server.
// Every field the API answers is compared with what the controller wrote in the store.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/deployments.h"
#include "support/command_with_input.h"
#include "support/deployment_fixture.h"
#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The DeploymentController's refusal of a rollback with nothing earlier to return to.
const std::string kNoEarlierVersion =
    "hello has had only one version in production: there is no earlier one to roll back to";

std::vector<int64_t> ids_of(const json& list) {
  std::vector<int64_t> ids;
  for (const auto& item : list) ids.push_back(item.value("id", int64_t{0}));
  return ids;
}

std::vector<std::string> states_of(const json& steps) {
  std::vector<std::string> states;
  for (const auto& step : steps) states.push_back(step.value("state", ""));
  return states;
}

class DeploymentApi : public ::testing::Test {
 protected:
  // Ids 1..3, newest last: 1 deploys v1; 2 deploys "broken" (its health answers 503) and is
  // rolled back before the switch; 3 is the rollback deployment that made v1 live again.
  static void SetUpTestSuite() {
    DeploySettings settings;
    settings.health = "{ path: /health, interval: 100ms, timeout: 1s, healthy: 2, unhealthy: 2 }";
    settings.bake = "0s";
    settings.drain = "0s";
    fixture_ = new DeploymentFixture(settings);
    if (!fixture_->error().empty()) return;
    if (fixture_->push_version("v1").empty() || !fixture_->wait_settled(1, 60s) ||
        fixture_->push_version("broken", {{"HEALTH_FAIL", "1"}}).empty() || !fixture_->wait_settled(3, 60s)) {
      setup_error_ = "the deployments did not happen: " + fixture_->error() + "\n" + fixture_->server().log();
    }
  }
  static void TearDownTestSuite() {
    delete fixture_;  // stops the server, its HAProxy and the containers, whatever happened
    fixture_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(fixture_->error(), "");
    ASSERT_EQ(setup_error_, "");
  }

  static HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& token = DeploymentFixture::kAdminToken) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_request(fixture_->server().address(), method, target, headers, body);
  }
  static json get(const std::string& target) {
    HttpAnswer answer = call("GET", target);
    EXPECT_EQ(answer.status, 200) << target << ": " << answer.body;
    return json::parse(answer.body, nullptr, false);
  }
  static std::string error_of(const HttpAnswer& answer) {
    return json::parse(answer.body, nullptr, false).value("error", "");
  }
  static CommandOutput slipway(std::vector<std::string> arguments,
                               const std::string& token = DeploymentFixture::kAdminToken) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return run_with_input(arguments, "",
                          {{"SLIPWAY_SERVER", "http://" + fixture_->server().address()}, {"SLIPWAY_TOKEN", token},
                           {"SLIPWAY_DATA_DIR", std::nullopt}, {"NO_COLOR", "1"}});
  }
  // What the controller wrote, newest first, with steps.
  static std::vector<DeploymentRecord> stored() { return fixture_->deployments(); }

  static DeploymentFixture* fixture_;
  static std::string setup_error_;
};

DeploymentFixture* DeploymentApi::fixture_ = nullptr;
std::string DeploymentApi::setup_error_;

// Every field of a listed deployment against the record the controller wrote.
void expect_same(const json& listed, const DeploymentRecord& record) {
  EXPECT_EQ(listed["id"], record.id);
  EXPECT_EQ(listed["application"], record.application);
  EXPECT_EQ(listed["environment"], record.environment);
  EXPECT_EQ(listed["kind"], record.kind);
  EXPECT_EQ(listed["image"], record.image);
  EXPECT_EQ(listed["digest"], record.digest);
  EXPECT_EQ(listed["tag"], record.tag);
  EXPECT_EQ(listed["state"], std::string(to_text(record.state)));
  EXPECT_EQ(listed["outcome"], std::string(outcome_text(record.outcome)));
  EXPECT_EQ(listed["reason"], record.reason);
  EXPECT_EQ(listed["slot"], record.slot);
  EXPECT_EQ(listed["port"], record.port);
  EXPECT_EQ(listed["container"], record.container);
  EXPECT_EQ(listed["container_state"], std::string(to_text(record.container_state)));
  EXPECT_EQ(listed["previous_id"], record.previous_id);
  EXPECT_EQ(listed["created_ms"], record.created_ms);
  EXPECT_EQ(listed["finished_ms"], record.finished_ms);
}

TEST_F(DeploymentApi, ListsNewestFirstWithEveryFieldAsTheControllerWroteIt) {
  json list = get("/api/v1/deployments");
  ASSERT_EQ(ids_of(list["deployments"]), (std::vector<int64_t>{3, 2, 1})) << list.dump(2);
  EXPECT_TRUE(list["next_before"].is_null());
  auto records = stored();
  ASSERT_EQ(records.size(), 3u);
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("deployment #" + std::to_string(records[i].id));
    expect_same(list["deployments"][i], records[i]);
    EXPECT_FALSE(list["deployments"][i].contains("steps")) << "steps only in the one-deployment answer";
  }
  json broken = list["deployments"][1];
  EXPECT_EQ(broken["tag"], "broken");
  EXPECT_EQ(broken["outcome"], "rolled_back");
  EXPECT_EQ(broken["container_state"], "removed");
  EXPECT_NE(broken["reason"].get<std::string>().find("503"), std::string::npos) << broken.dump(2);
  ASSERT_TRUE(broken["settings"].is_object()) << broken.dump();
  EXPECT_EQ(broken["settings"]["health"]["healthy"], 2);
  json back = list["deployments"][0];
  EXPECT_EQ(back["kind"], "rollback");
  EXPECT_EQ(back["outcome"], "succeeded");
  EXPECT_EQ(back["digest"], list["deployments"][2]["digest"]) << "v1 again";
  EXPECT_GE(back["finished_ms"].get<int64_t>(), back["created_ms"].get<int64_t>());
}

TEST_F(DeploymentApi, FiltersAndPages) {
  EXPECT_EQ(ids_of(get("/api/v1/deployments?application=hello&environment=production")["deployments"]),
            (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(ids_of(get("/api/v1/deployments?environment=staging")["deployments"]), (std::vector<int64_t>{}));
  EXPECT_EQ(ids_of(get("/api/v1/deployments?active=1")["deployments"]), (std::vector<int64_t>{}))
      << "every deployment has ended";
  EXPECT_EQ(ids_of(get("/api/v1/deployments?application=nobody")["deployments"]), (std::vector<int64_t>{}));
  json page = get("/api/v1/deployments?limit=2");
  EXPECT_EQ(ids_of(page["deployments"]), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(page["next_before"], 2);
  json rest = get("/api/v1/deployments?limit=2&before=2");
  EXPECT_EQ(ids_of(rest["deployments"]), (std::vector<int64_t>{1}));
  EXPECT_TRUE(rest["next_before"].is_null());
  EXPECT_EQ(call("GET", "/api/v1/deployments?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/deployments?before=x").status, 400);
  HttpAnswer bad_active = call("GET", "/api/v1/deployments?active=maybe");
  EXPECT_EQ(bad_active.status, 400);
  EXPECT_NE(error_of(bad_active).find("active"), std::string::npos) << bad_active.body;
}

TEST_F(DeploymentApi, ShowsOneDeploymentWithTheStepsTheControllerWrote) {
  json deployment = get("/api/v1/deployments/2");
  EXPECT_EQ(deployment["id"], 2);
  EXPECT_EQ(deployment["outcome"], "rolled_back");
  // On a mismatch the steps' messages say why (the rolling_back step carries the reason).
  EXPECT_EQ(states_of(deployment["steps"]),
            (std::vector<std::string>{"queued", "starting", "health_checking", "rolling_back", "rolled_back"}))
      << deployment["steps"].dump(2);
  const DeploymentRecord record = stored()[1];
  ASSERT_EQ(deployment["steps"].size(), record.steps.size());
  for (size_t i = 0; i < record.steps.size(); ++i) {
    EXPECT_EQ(deployment["steps"][i]["message"], record.steps[i].message);
    EXPECT_EQ(deployment["steps"][i]["at_ms"], record.steps[i].at_ms);
  }
  EXPECT_NE(deployment["steps"][0]["message"].get<std::string>().find("broken"), std::string::npos)
      << "the push that started it";

  HttpAnswer missing = call("GET", "/api/v1/deployments/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no deployment #999"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/deployments/abc").status, 400);
}

TEST_F(DeploymentApi, CurrentHasTheLiveVersionAndNothingActive) {
  json current = get("/api/v1/deployments/current")["current"];
  ASSERT_EQ(current.size(), 1u) << current.dump(2);
  EXPECT_EQ(current[0]["application"], "hello");
  EXPECT_EQ(current[0]["environment"], "production");
  EXPECT_EQ(current[0]["deployment"]["id"], 3) << "the rollback deployment serves v1 now";
  EXPECT_TRUE(current[0]["active"].is_null());
  EXPECT_EQ(fixture_->live_version(), "v1") << "and v1 is what the router serves";
}

TEST_F(DeploymentApi, RollbackRefusesBadBodiesAndWeakTokens) {
  const std::string route = "/api/v1/deployments/rollback";
  HttpAnswer not_json = call("POST", route, "{not json");
  EXPECT_EQ(not_json.status, 400);
  HttpAnswer unknown = call("POST", route, R"({"application": "hello", "environment": "production", "force": true})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(error_of(unknown).find("unknown field 'force'"), std::string::npos) << unknown.body;
  HttpAnswer missing = call("POST", route, R"({"application": "hello"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(error_of(missing).find("'environment' is missing"), std::string::npos) << missing.body;
  HttpAnswer not_text = call("POST", route, R"({"application": "hello", "environment": 7})");
  EXPECT_EQ(not_text.status, 400);

  HttpAnswer made = call("POST", "/api/v1/tokens", R"({"name": "viewer", "role": "read-only"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string reader = json::parse(made.body).value("token", "");
  EXPECT_EQ(call("GET", "/api/v1/deployments", "", reader).status, 200);
  EXPECT_EQ(call("POST", route, R"({"application": "hello", "environment": "production"})", reader).status, 403);
  EXPECT_EQ(call("POST", route, R"({"application": "hello", "environment": "production"})", "").status, 401);

  HttpAnswer stranger = call("POST", route, R"({"application": "nosuchapp", "environment": "production"})");
  EXPECT_EQ(stranger.status, 404) << stranger.body;
  EXPECT_NE(error_of(stranger).find("nosuchapp"), std::string::npos) << stranger.body;
  // v1 is live again and "broken" never succeeded: there is no other version to return to.
  HttpAnswer refused = call("POST", route, R"({"application": "hello", "environment": "production", "reason": "x"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(error_of(refused), kNoEarlierVersion);
  EXPECT_EQ(stored().size(), 3u) << "a refused rollback records nothing";
}

TEST_F(DeploymentApi, CliPrintsTheSameDeployments) {
  CommandOutput status = slipway({"deploy", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(json::parse(status.out, nullptr, false)["current"], get("/api/v1/deployments/current")["current"]);

  CommandOutput history = slipway({"deploy", "history", "hello", "--environment", "production", "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  json deployments = json::parse(history.out, nullptr, false)["deployments"];
  EXPECT_EQ(ids_of(deployments), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(deployments, get("/api/v1/deployments?application=hello&environment=production")["deployments"]);

  CommandOutput show = slipway({"deploy", "show", "2", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out, nullptr, false), get("/api/v1/deployments/2"));
}

TEST_F(DeploymentApi, CliTablesAndRefusals) {
  const DeploymentRecord v1 = stored()[2];
  CommandOutput status = slipway({"deploy", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("v1 (" + v1.digest.substr(7, 12) + ")"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("\x1b["), std::string::npos) << "colour on a pipe";

  CommandOutput history = slipway({"deploy", "history", "hello"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("rolled_back"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("rollback"), std::string::npos) << history.out;

  CommandOutput show = slipway({"deploy", "show", "2"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Deployment #2  rolled_back"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("s  health_checking"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("s  rolling_back"), std::string::npos) << show.out;

  EXPECT_EQ(slipway({"deploy", "show", "999"}).exit_code, 2);
  CommandOutput unknown = slipway({"deploy", "history", "nosuchapp"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out;
  EXPECT_NE(unknown.err.find("nosuchapp"), std::string::npos) << unknown.err;
  CommandOutput rollback = slipway({"deploy", "rollback", "hello", "production", "--reason", "test"});
  EXPECT_EQ(rollback.exit_code, 2) << rollback.out;
  EXPECT_NE(rollback.err.find(kNoEarlierVersion), std::string::npos) << rollback.err;
}

}  // namespace
}  // namespace slipway::testing
