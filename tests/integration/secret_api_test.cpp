// The secret routes of a real `slipway serve`: an admin sets, lists, applies and deletes; any other
// role is refused; no answer and no log line carries a value; webhook keys are server secrets
// (never a repository secret); and `slipway secret` with SLIPWAY_SERVER goes through the API end
// to end, --server-only included.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server/webhook_signature.h"
#include "store/master_key.h"
#include "store/secret_store.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;

const std::string kAdminToken = "secret-api-admin-token-0123456789abcdef";
const std::string kValue = "v4lue-that-must-never-show";
const char* kWebhookSecretName = "DEMO_WEBHOOK_SECRET";

class SecretApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv(kWebhookSecretName);  // the server must find it in the store, not in its environment
    ::unsetenv(kMasterKeyVariable);
    std::ofstream(folder_.path() / "slipway.yml")
        << "executor: host\nrepositories:\n  - { name: demo, url: " << folder_.path().string()
        << ", poll_interval: 0s, webhook_secret: " << kWebhookSecretName << " }\n";
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string(),
                                 "--log-level", "debug"},
        kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  fs::path data() const { return folder_.path() / "data"; }

  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& token = kAdminToken) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    HttpAnswer answer = http_request(server_->address(), method, target, headers, body);
    EXPECT_EQ(answer.body.find(kValue), std::string::npos) << method << " " << target << " answered with the value";
    return answer;
  }

  std::string read_only_token() {
    auto made = call("POST", "/api/v1/tokens", R"({"name": "viewer", "role": "read-only"})");
    EXPECT_EQ(made.status, 201) << made.body;
    return nlohmann::json::parse(made.body, nullptr, false).value("token", "");
  }

  // `slipway ARGS...` against this server with `token`.
  CommandOutput slipway(std::vector<std::string> arguments, const std::string& input = "",
                        const std::string& token = kAdminToken) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return run_with_input(arguments, input,
                          {{"SLIPWAY_SERVER", "http://" + server_->address()}, {"SLIPWAY_TOKEN", token},
                           {"SLIPWAY_DATA_DIR", std::nullopt}, {"SLIPWAY_MASTER_KEY", std::nullopt}});
  }

  // The value as the server stored it, read with the data directory's master key.
  std::optional<std::string> stored(const std::string& repository, const std::string& environment,
                                    const std::string& name) {
    auto key = load_master_key(data(), std::nullopt);
    auto store = Store::open(data() / "slipway.db");
    if (!key || !store) return std::nullopt;
    auto value = SecretStore(**store, *key).get(repository, environment, name);
    return value.ok() ? *value : std::nullopt;
  }

  TemporaryDirectory folder_{"slipway-secret-api"};
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SecretApi, AnAdminPutsListsAndDeletes) {
  std::string body = nlohmann::json{{"value", kValue}}.dump();
  auto added = call("PUT", "/api/v1/secrets/hello-app/production/DATABASE_URL", body);
  EXPECT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(nlohmann::json::parse(added.body)["action"], "added");
  auto updated = call("PUT", "/api/v1/secrets/hello-app/production/DATABASE_URL", body);
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(call("PUT", "/api/v1/secrets/*/staging/REGISTRY_PASSWORD", body).status, 201);
  EXPECT_EQ(stored("hello-app", "production", "DATABASE_URL"), kValue);

  auto listed = call("GET", "/api/v1/secrets");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto secrets = nlohmann::json::parse(listed.body)["secrets"];
  ASSERT_EQ(secrets.size(), 2u);
  EXPECT_EQ(secrets[0]["repository"], "*");
  EXPECT_EQ(secrets[1]["name"], "DATABASE_URL");
  EXPECT_FALSE(secrets[1].contains("value"));
  auto filtered = call("GET", "/api/v1/secrets?repository=hello-app&environment=production");
  EXPECT_EQ(nlohmann::json::parse(filtered.body)["secrets"].size(), 1u);

  EXPECT_EQ(call("DELETE", "/api/v1/secrets/hello-app/production/DATABASE_URL").status, 200);
  auto absent = call("DELETE", "/api/v1/secrets/hello-app/production/DATABASE_URL");
  EXPECT_EQ(absent.status, 404);
  EXPECT_NE(absent.body.find("DATABASE_URL"), std::string::npos) << absent.body;
}

TEST_F(SecretApi, BadInputIs400WithoutTheValue) {
  EXPECT_EQ(call("PUT", "/api/v1/secrets/app/dev/bad-name", nlohmann::json{{"value", kValue}}.dump()).status, 400);
  EXPECT_EQ(call("PUT", "/api/v1/secrets/app/dev/OK", R"({"value": ""})").status, 400);
  EXPECT_EQ(call("PUT", "/api/v1/secrets/app/dev/OK", "{\"value\": \"" + kValue).status, 400);  // broken JSON
  EXPECT_EQ(call("PUT", "/api/v1/secrets/app/dev/OK", R"({"value": 42})").status, 400);
  auto duplicate = nlohmann::json{{"secrets", {{{"repository", "a"}, {"environment", "e"}, {"name", "N"}, {"value", kValue}},
                                               {{"repository", "a"}, {"environment", "e"}, {"name", "N"}, {"value", kValue}}}}};
  EXPECT_EQ(call("POST", "/api/v1/secrets/apply", duplicate.dump()).status, 400);
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v1/secrets").body)["secrets"].size(), 0u);
}

TEST_F(SecretApi, ApplyPlansThenConverges) {
  ASSERT_EQ(call("PUT", "/api/v1/secrets/old/dev/STALE", R"({"value": "stale"})").status, 201);
  nlohmann::json desired = {{"secrets", {{{"repository", "*"}, {"environment", "staging"}, {"name", "PW"}, {"value", kValue}}}},
                            {"dry_run", true}};
  auto plan = call("POST", "/api/v1/secrets/apply", desired.dump());
  ASSERT_EQ(plan.status, 200) << plan.body;
  auto actions = nlohmann::json::parse(plan.body)["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["action"], "added");
  EXPECT_EQ(actions[1]["action"], "removed");
  EXPECT_EQ(stored("old", "dev", "STALE"), "stale") << "a dry run changes nothing";
  desired["dry_run"] = false;
  ASSERT_EQ(call("POST", "/api/v1/secrets/apply", desired.dump()).status, 200);
  EXPECT_EQ(stored("old", "dev", "STALE"), std::nullopt);
  EXPECT_EQ(stored("*", "staging", "PW"), kValue);
  auto again = nlohmann::json::parse(call("POST", "/api/v1/secrets/apply", desired.dump()).body);
  EXPECT_EQ(again["actions"][0]["action"], "unchanged");
}

TEST_F(SecretApi, OtherRolesAreRefused) {
  std::string viewer = read_only_token();
  ASSERT_FALSE(viewer.empty());
  std::string body = nlohmann::json{{"value", kValue}}.dump();
  EXPECT_EQ(call("GET", "/api/v1/secrets", "", viewer).status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/secrets/app/dev/TOKEN", body, viewer).status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/secrets/app/dev/TOKEN", "", viewer).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/secrets/apply", R"({"secrets": []})", viewer).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/secrets", "", "").status, 401);
  EXPECT_EQ(stored("app", "dev", "TOKEN"), std::nullopt);
  auto cli = slipway({"secret", "set", "app", "dev", "TOKEN"}, kValue, viewer);
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find("403"), std::string::npos) << cli.err;
}

TEST_F(SecretApi, TheCliGoesThroughTheServer) {
  auto set = slipway({"secret", "set", "hello-app", "staging", "API_KEY"}, kValue + "\n");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(stored("hello-app", "staging", "API_KEY"), kValue);
  auto listed = slipway({"secret", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(nlohmann::json::parse(listed.out)[0]["name"], "API_KEY");
  EXPECT_EQ(listed.out.find(kValue), std::string::npos);

  fs::path file = folder_.path() / "secrets.yml";
  std::ofstream(file) << "secrets:\n  - { repository: \"*\", environment: \"*\", name: SHARED, from_env: SHARED_VALUE }\n";
  auto applied = run_with_input({SLIPWAY_BINARY, "secret", "apply", file.string()}, "",
                                {{"SLIPWAY_SERVER", "http://" + server_->address()}, {"SLIPWAY_TOKEN", kAdminToken},
                                 {"SHARED_VALUE", kValue}});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("1 added, 0 updated, 0 unchanged, 1 removed"), std::string::npos) << applied.out;
  EXPECT_EQ(stored("*", "*", "SHARED"), kValue);

  EXPECT_EQ(slipway({"secret", "rm", "*", "*", "SHARED"}).exit_code, 0);
  auto absent = slipway({"secret", "rm", "*", "*", "SHARED"});
  EXPECT_EQ(absent.exit_code, 1) << absent.err;
  EXPECT_NE(absent.err.find("no secret SHARED"), std::string::npos) << absent.err;

  std::string log = server_->log();
  EXPECT_NE(log.find("/api/v1/secrets"), std::string::npos) << "requests are logged (debug level)";
  EXPECT_EQ(log.find(kValue), std::string::npos) << log;
  for (const auto& entry : fs::recursive_directory_iterator(data())) {
    if (!entry.is_regular_file() || entry.path().filename() == "master.key") continue;
    auto bytes = read_file(entry.path());
    EXPECT_TRUE(!bytes || bytes->find(kValue) == std::string::npos) << entry.path();
  }
}

TEST_F(SecretApi, WebhookSecretsAreServerSecrets) {
  std::string body = R"({"zen": "ping"})";
  auto ping = [&](const std::string& secret) {
    return http_request(server_->address(), "POST", "/api/v1/webhooks/git/demo",
                        {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(secret, body)}},
                        body);
  };
  auto unset = ping(kValue);
  EXPECT_EQ(unset.status, 401);
  EXPECT_NE(unset.body.find("has no value"), std::string::npos) << unset.body;
  // A repository secret (demo, '*') is what every test job of demo receives: not a webhook key.
  ASSERT_EQ(call("PUT", std::string("/api/v1/secrets/demo/*/") + kWebhookSecretName,
                 nlohmann::json{{"value", kValue}}.dump()).status, 201);
  auto stored_the_old_way = ping(kValue);
  EXPECT_EQ(stored_the_old_way.status, 401);
  EXPECT_NE(stored_the_old_way.body.find("every test job"), std::string::npos) << stored_the_old_way.body;
  // A server secret is.
  auto added = call("PUT", std::string("/api/v1/server-secrets/") + kWebhookSecretName,
                    nlohmann::json{{"value", kValue}}.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(ping(kValue).status, 200);
  EXPECT_EQ(ping("another value").status, 401);
  auto listed = nlohmann::json::parse(call("GET", "/api/v1/server-secrets").body, nullptr, false);
  ASSERT_EQ(listed["secrets"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["secrets"][0]["name"], kWebhookSecretName);
  // Server secrets are not among a repository's (nor, so, a job's).
  nlohmann::json job_secrets = nlohmann::json::parse(call("GET", "/api/v1/secrets").body, nullptr, false);
  for (const auto& entry : job_secrets["secrets"]) {
    EXPECT_NE(entry["repository"], "@server") << entry.dump();
  }
  EXPECT_EQ(call("DELETE", std::string("/api/v1/server-secrets/") + kWebhookSecretName).status, 200);
  EXPECT_EQ(call("DELETE", std::string("/api/v1/server-secrets/") + kWebhookSecretName).status, 404);
  EXPECT_EQ(ping(kValue).status, 401);
}

TEST_F(SecretApi, ServerSecretsThroughTheCliAndOnlyForAdmins) {
  auto set = slipway({"secret", "set", "--server-only", kWebhookSecretName}, kValue);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("server secret"), std::string::npos) << set.out;
  auto listed = slipway({"secret", "list", "--server-only", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(nlohmann::json::parse(listed.out)[0]["name"], kWebhookSecretName);
  auto jobs = slipway({"secret", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(jobs.out).size(), 0u) << jobs.out;
  auto both = slipway({"secret", "set", "--server-only", "demo", "*", kWebhookSecretName}, kValue);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("NAME alone"), std::string::npos) << both.err;

  std::string viewer = read_only_token();
  EXPECT_EQ(call("GET", "/api/v1/server-secrets", "", viewer).status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/server-secrets/X", nlohmann::json{{"value", kValue}}.dump(), viewer).status, 403);
  EXPECT_EQ(call("DELETE", std::string("/api/v1/server-secrets/") + kWebhookSecretName, "", viewer).status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/server-secrets/bad-name", nlohmann::json{{"value", kValue}}.dump()).status, 400);
  EXPECT_EQ(call("PUT", "/api/v1/server-secrets/OK", R"({"value": ""})").status, 400);

  EXPECT_EQ(slipway({"secret", "rm", "--server-only", kWebhookSecretName}).exit_code, 0);
  auto absent = slipway({"secret", "rm", "--server-only", kWebhookSecretName});
  EXPECT_EQ(absent.exit_code, 1) << absent.err;
  EXPECT_NE(absent.err.find("no server secret"), std::string::npos) << absent.err;
}

}  // namespace
}  // namespace slipway::testing
