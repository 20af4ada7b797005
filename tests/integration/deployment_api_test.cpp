// The deployment routes of a real `slipway serve`, over deployments written into its store
// (as a DeploymentController would have; the finished ones before it starts): the list and its
// filters, the current versions, one deployment with its steps, the rollback route's refusals,
// and `slipway deploy status|history|show|rollback` against the same server.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "store/deployments.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

using nlohmann::json;

const std::string kAdminToken = "deployment-api-admin-token-0123456789abcdef";
// The DeploymentController's refusal of a rollback with nothing to return to.
const std::string kNoEarlierVersion =
    "demo has had only one version in production: there is no earlier one to roll back to";

struct Seed {
  std::string application, environment, tag;
  std::vector<std::string> states;  // after "queued"
  std::string outcome, reason;
};

// Ids 1..5 in this order. demo/production: 1 live, 2 rolled back; demo/staging: 3 live;
// other/production: 4 failed, nothing live; demo/development: 5 in flight. The last one is
// written once the server runs, for a pair it had no deployment of: its DeploymentController
// resumes (and here fails) every active deployment of the pairs it finds at start.
const std::vector<Seed> kSeeds = {
    {"demo", "production", "v1", {"starting", "health_checking", "switching", "baking", "draining", "retiring", "succeeded"},
     "succeeded", ""},
    {"demo", "production", "v2", {"starting", "health_checking", "rolling_back", "rolled_back"}, "rolled_back",
     "green unhealthy: 3 checks failed"},
    {"demo", "staging", "v3", {"starting", "health_checking", "switching", "succeeded"}, "succeeded", ""},
    {"other", "production", "v1", {"starting", "failed"}, "failed", "green never answered"},
    {"demo", "development", "v3", {"starting", "health_checking"}, "", ""},
};

std::string digest_of(size_t index) { return "sha256:" + std::string(64, static_cast<char>('a' + index)); }

// Seeds [first, last) in the store, written the way the controller writes them.
void seed_store(const std::filesystem::path& database, size_t first, size_t last) {
  auto store = Store::open(database);
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (size_t i = first; i < last; ++i) {
    const Seed& seed = kSeeds[i];
    DeploymentRecord record;
    record.application = seed.application;
    record.environment = seed.environment;
    record.digest = digest_of(i);
    record.image = "127.0.0.1:5000/" + seed.environment + "/" + seed.application + "@" + record.digest;
    record.tag = seed.tag;
    record.settings = R"({"health": {"path": "/health", "successes": 3}, "bake": "1s"})";
    auto id = create_deployment(**store, record, "image pushed: " + seed.tag);
    ASSERT_TRUE(id.ok()) << id.error().message;
    ASSERT_EQ(*id, static_cast<int64_t>(i + 1));
    for (const auto& state : seed.states) {
      DeploymentTransition transition;
      transition.state = *deployment_state_from_text(state);
      transition.message = state == "health_checking" ? "green healthy: 3 checks passed" : "entered " + state;
      if (state == "starting") {
        transition.slot = "green";
        transition.port = 40000 + static_cast<int>(i);
        transition.container = "slipway-" + seed.application + "-" + seed.environment + "-" + std::to_string(i + 1);
        transition.container_state = ContainerState::running;
      }
      if (&state == &seed.states.back() && !seed.outcome.empty()) {
        transition.outcome = deployment_outcome_from_text(seed.outcome);
        transition.reason = seed.reason;
      }
      Status written = record_deployment_transition(**store, *id, transition);
      ASSERT_TRUE(written.ok()) << written.error().message;
    }
  }
}

std::vector<int64_t> ids_of(const json& list) {
  std::vector<int64_t> ids;
  for (const auto& item : list) ids.push_back(item.value("id", int64_t{0}));
  return ids;
}

class DeploymentApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new TemporaryDirectory("slipway-deployment-api");
    std::filesystem::create_directories(folder_->path() / "data");
    seed_store(folder_->path() / "data" / "slipway.db", 0, kSeeds.size() - 1);
    std::ofstream(folder_->path() / "slipway.yml")
        << "executor: host\nrepositories:\n  - { name: demo, url: " << folder_->path().string()
        << ", poll_interval: 0s }\n";
    server_ = new ServerProcess({"--config", (folder_->path() / "slipway.yml").string(), "--data-dir",
                                 (folder_->path() / "data").string()},
                                kAdminToken);
    if (!server_->address().empty()) seed_store(folder_->path() / "data" / "slipway.db", kSeeds.size() - 1, kSeeds.size());
  }
  static void TearDownTestSuite() {
    delete server_;  // stops the server first, whatever happened in the tests
    delete folder_;
  }
  void SetUp() override { ASSERT_FALSE(server_->address().empty()) << server_->log(); }

  static HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& token = kAdminToken) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_request(server_->address(), method, target, headers, body);
  }
  static json get(const std::string& target) {
    HttpAnswer answer = call("GET", target);
    EXPECT_EQ(answer.status, 200) << target << ": " << answer.body;
    return json::parse(answer.body, nullptr, false);
  }
  static std::string error_of(const HttpAnswer& answer) {
    return json::parse(answer.body, nullptr, false).value("error", "");
  }
  static CommandOutput slipway(std::vector<std::string> arguments, const std::string& token = kAdminToken) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return run_with_input(arguments, "",
                          {{"SLIPWAY_SERVER", "http://" + server_->address()}, {"SLIPWAY_TOKEN", token},
                           {"SLIPWAY_DATA_DIR", std::nullopt}, {"NO_COLOR", "1"}});
  }

  static TemporaryDirectory* folder_;
  static ServerProcess* server_;
};

TemporaryDirectory* DeploymentApi::folder_ = nullptr;
ServerProcess* DeploymentApi::server_ = nullptr;

TEST_F(DeploymentApi, ListsNewestFirstWithEveryField) {
  json list = get("/api/v1/deployments");
  EXPECT_EQ(ids_of(list["deployments"]), (std::vector<int64_t>{5, 4, 3, 2, 1}));
  EXPECT_TRUE(list["next_before"].is_null());
  json rolled_back = list["deployments"][3];  // id 2
  EXPECT_EQ(rolled_back["application"], "demo");
  EXPECT_EQ(rolled_back["environment"], "production");
  EXPECT_EQ(rolled_back["kind"], "deploy");
  EXPECT_EQ(rolled_back["tag"], "v2");
  EXPECT_EQ(rolled_back["digest"], digest_of(1));
  EXPECT_EQ(rolled_back["image"], "127.0.0.1:5000/production/demo@" + digest_of(1));
  EXPECT_EQ(rolled_back["state"], "rolled_back");
  EXPECT_EQ(rolled_back["outcome"], "rolled_back");
  EXPECT_EQ(rolled_back["reason"], "green unhealthy: 3 checks failed");
  EXPECT_EQ(rolled_back["slot"], "green");
  EXPECT_EQ(rolled_back["port"], 40001);
  EXPECT_EQ(rolled_back["container"], "slipway-demo-production-2");
  EXPECT_EQ(rolled_back["container_state"], "running");
  EXPECT_EQ(rolled_back["previous_id"], 0);
  ASSERT_TRUE(rolled_back["settings"].is_object()) << rolled_back.dump();
  EXPECT_EQ(rolled_back["settings"]["health"]["successes"], 3);
  EXPECT_GT(rolled_back["created_ms"].get<int64_t>(), 0);
  EXPECT_GE(rolled_back["finished_ms"].get<int64_t>(), rolled_back["created_ms"].get<int64_t>());
  EXPECT_FALSE(rolled_back.contains("steps"));
  EXPECT_EQ(list["deployments"][0]["outcome"], "");
  EXPECT_EQ(list["deployments"][0]["state"], "health_checking");
  EXPECT_EQ(list["deployments"][0]["finished_ms"], 0);
}

TEST_F(DeploymentApi, FiltersAndPages) {
  EXPECT_EQ(ids_of(get("/api/v1/deployments?application=demo&environment=production")["deployments"]),
            (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ids_of(get("/api/v1/deployments?environment=production")["deployments"]),
            (std::vector<int64_t>{4, 2, 1}));
  EXPECT_EQ(ids_of(get("/api/v1/deployments?active=1")["deployments"]), (std::vector<int64_t>{5}));
  EXPECT_EQ(ids_of(get("/api/v1/deployments?application=nobody")["deployments"]), (std::vector<int64_t>{}));
  json page = get("/api/v1/deployments?limit=2");
  EXPECT_EQ(ids_of(page["deployments"]), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(page["next_before"], 4);
  EXPECT_EQ(ids_of(get("/api/v1/deployments?limit=2&before=4")["deployments"]), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(call("GET", "/api/v1/deployments?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/deployments?before=x").status, 400);
  HttpAnswer bad_active = call("GET", "/api/v1/deployments?active=maybe");
  EXPECT_EQ(bad_active.status, 400);
  EXPECT_NE(error_of(bad_active).find("active"), std::string::npos) << bad_active.body;
}

TEST_F(DeploymentApi, ShowsOneDeploymentWithItsSteps) {
  json deployment = get("/api/v1/deployments/2");
  EXPECT_EQ(deployment["id"], 2);
  EXPECT_EQ(deployment["outcome"], "rolled_back");
  std::vector<std::string> states;
  for (const auto& step : deployment["steps"]) {
    states.push_back(step.value("state", ""));
    EXPECT_GT(step.value("at_ms", int64_t{0}), 0) << step.dump();
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "starting", "health_checking", "rolling_back", "rolled_back"}));
  EXPECT_EQ(deployment["steps"][0]["message"], "image pushed: v2");
  EXPECT_EQ(deployment["steps"][2]["message"], "green healthy: 3 checks passed");

  HttpAnswer missing = call("GET", "/api/v1/deployments/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no deployment #999"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/deployments/abc").status, 400);
}

TEST_F(DeploymentApi, CurrentHasTheLiveAndTheActiveDeploymentPerPair) {
  json current = get("/api/v1/deployments/current")["current"];
  ASSERT_EQ(current.size(), 4u) << current.dump(2);
  EXPECT_EQ(current[0]["application"], "demo");
  EXPECT_EQ(current[0]["environment"], "development");
  EXPECT_TRUE(current[0]["deployment"].is_null());
  EXPECT_EQ(current[0]["active"]["id"], 5);
  EXPECT_EQ(current[0]["active"]["state"], "health_checking");
  EXPECT_EQ(current[1]["environment"], "production");
  EXPECT_EQ(current[1]["deployment"]["id"], 1);  // 2 was rolled back: 1 still serves
  EXPECT_TRUE(current[1]["active"].is_null());
  EXPECT_EQ(current[2]["environment"], "staging");
  EXPECT_EQ(current[2]["deployment"]["id"], 3);
  EXPECT_EQ(current[3]["application"], "other");
  EXPECT_TRUE(current[3]["deployment"].is_null());
  EXPECT_TRUE(current[3]["active"].is_null());
}

TEST_F(DeploymentApi, RollbackRefusesBadBodiesAndWeakTokens) {
  const std::string route = "/api/v1/deployments/rollback";
  HttpAnswer not_json = call("POST", route, "{not json");
  EXPECT_EQ(not_json.status, 400);
  HttpAnswer unknown = call("POST", route, R"({"application": "demo", "environment": "production", "force": true})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(error_of(unknown).find("unknown field 'force'"), std::string::npos) << unknown.body;
  HttpAnswer missing = call("POST", route, R"({"application": "demo"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(error_of(missing).find("'environment' is missing"), std::string::npos) << missing.body;
  HttpAnswer not_text = call("POST", route, R"({"application": "demo", "environment": 7})");
  EXPECT_EQ(not_text.status, 400);

  HttpAnswer made = call("POST", "/api/v1/tokens", R"({"name": "viewer", "role": "read-only"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string reader = json::parse(made.body).value("token", "");
  EXPECT_EQ(call("GET", "/api/v1/deployments", "", reader).status, 200);
  EXPECT_EQ(call("POST", route, R"({"application": "demo", "environment": "production"})", reader).status, 403);
  EXPECT_EQ(call("POST", route, R"({"application": "demo", "environment": "production"})", "").status, 401);

  HttpAnswer stranger = call("POST", route, R"({"application": "nosuchapp", "environment": "production"})");
  EXPECT_EQ(stranger.status, 404) << stranger.body;
  EXPECT_NE(error_of(stranger).find("nosuchapp"), std::string::npos) << stranger.body;
  // The controller runs, but demo/production never had an earlier version that succeeded.
  HttpAnswer refused = call("POST", route, R"({"application": "demo", "environment": "production", "reason": "x"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(error_of(refused), kNoEarlierVersion);
}

TEST_F(DeploymentApi, CliPrintsTheSameDeployments) {
  CommandOutput status = slipway({"deploy", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json current = json::parse(status.out, nullptr, false)["current"];
  EXPECT_EQ(current, get("/api/v1/deployments/current")["current"]);
  CommandOutput staging = slipway({"deploy", "status", "demo", "--environment", "staging", "--json"});
  ASSERT_EQ(staging.exit_code, 0) << staging.err;
  json only = json::parse(staging.out, nullptr, false)["current"];
  ASSERT_EQ(only.size(), 1u) << staging.out;
  EXPECT_EQ(only[0]["deployment"]["id"], 3);

  CommandOutput history = slipway({"deploy", "history", "demo", "--environment", "production", "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  json deployments = json::parse(history.out, nullptr, false)["deployments"];
  EXPECT_EQ(ids_of(deployments), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(deployments, get("/api/v1/deployments?application=demo&environment=production")["deployments"]);

  CommandOutput show = slipway({"deploy", "show", "2", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out, nullptr, false), get("/api/v1/deployments/2"));
}

TEST_F(DeploymentApi, CliTablesAndRefusals) {
  CommandOutput status = slipway({"deploy", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("v1 (" + digest_of(0).substr(7, 12) + ")"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("#5 v3 (" + digest_of(4).substr(7, 12) + ") health_checking"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("\x1b["), std::string::npos) << "colour on a pipe";

  CommandOutput history = slipway({"deploy", "history", "demo"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("rolled_back"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("green unhealthy: 3 checks failed"), std::string::npos) << history.out;

  CommandOutput show = slipway({"deploy", "show", "2"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Deployment #2  rolled_back"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("s  health_checking"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("green healthy: 3 checks passed"), std::string::npos) << show.out;

  EXPECT_EQ(slipway({"deploy", "show", "999"}).exit_code, 2);
  CommandOutput unknown = slipway({"deploy", "history", "nosuchapp"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out;
  EXPECT_NE(unknown.err.find("nosuchapp"), std::string::npos) << unknown.err;
  CommandOutput rollback = slipway({"deploy", "rollback", "demo", "production", "--reason", "test"});
  EXPECT_EQ(rollback.exit_code, 2) << rollback.out;
  EXPECT_NE(rollback.err.find(kNoEarlierVersion), std::string::npos) << rollback.err;
}

}  // namespace
}  // namespace slipway::testing
