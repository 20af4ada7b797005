// A step run by the server (`slipway serve`, the sandbox executor) that prints its secret the
// way a leaking program would — plain, base64-, URL- and JSON-encoded, in a failure message and
// in the summary — shows `***` through the API (step logs, the run, its report) and leaves the
// value in no file of the data directory, in no encoded form either. `slipway run` has its own
// test (secrets_test.cpp); this is the same promise for the server's runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/http_client.h"
#include "support/command_with_input.h"
#include "support/files_containing.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAdminToken = "server-secrets-admin-token-0123456789abcdef";
const std::string kToken = "s3cr3t-T0ken/with+chars=";

const char* kLeakySpec = R"yaml(kind: library
test:
  suites:
    leak:
      run: |
        echo "plain: $API_TOKEN"
        echo "base64: $(printf %s "$API_TOKEN" | base64 -w0)"
        echo "url: $(python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["API_TOKEN"], safe=""))')"
        echo "json: $(python3 -c 'import json, os; print(json.dumps({"t": os.environ["API_TOKEN"]}))')"
        echo "stderr: $API_TOKEN" >&2
        echo "## Summary with $API_TOKEN" >> "$SLIPWAY_SUMMARY"
        mkdir -p reports
        printf '<testsuite name="s"><testcase name="t"><failure message="got %s"/></testcase></testsuite>' "$API_TOKEN" > reports/leak.xml
      junit: reports/leak.xml
)yaml";

// The forms a leaking program prints the value in.
std::vector<std::string> encoded_forms(const std::string& value) {
  return {value, to_base64(value), percent_encode(value), nlohmann::json(value).dump()};
}

class ServerSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repository_.write(".slipway.yml", kLeakySpec);
    repository_.commit();
    std::ofstream(folder_.path() / "slipway.yml")
        << "repositories:\n  - { name: leaky, url: " << repository_.path().string() << ", poll_interval: 0s }\n";
    std::filesystem::create_directories(data());
    auto set = set_secret_in(data(), {"leaky", "test", "API_TOKEN"}, kToken);
    ASSERT_EQ(set.exit_code, 0) << set.err;
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
  }

  std::filesystem::path data() const { return folder_.path() / "data"; }

  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "") {
    return http_request(server_->address(), method, target, {{"Authorization", std::string("Bearer ") + kAdminToken}},
                        body);
  }

  nlohmann::json get(const std::string& target) {
    HttpAnswer answer = call("GET", target);
    EXPECT_EQ(answer.status, 200) << target << ": " << answer.body;
    return nlohmann::json::parse(answer.body, nullptr, false);
  }

  // Triggers a run of main and waits (up to a minute) for its end; returns the run's detail.
  nlohmann::json finished_run() {
    HttpAnswer triggered = call("POST", "/api/v1/repositories/leaky/trigger", "{}");
    EXPECT_EQ(triggered.status, 201) << triggered.body;
    auto id = nlohmann::json::parse(triggered.body, nullptr, false).value("id", int64_t{0});
    for (int i = 0; i < 600; ++i) {
      nlohmann::json run = get("/api/v1/runs/" + std::to_string(id));
      std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "run #" << id << " did not finish within a minute\n" << server_->log();
    return nullptr;
  }

  ScratchRepository repository_;
  TemporaryDirectory folder_{"slipway-server-secrets"};
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerSecretsTest, AStepPrintingItsSecretShowsStarsEverywhere) {
  nlohmann::json run = finished_run();
  ASSERT_TRUE(run.is_object());
  EXPECT_EQ(run.value("status", ""), "failed") << "the report holds a failure: " << run.dump(2);

  std::string printed;
  for (const auto& job : run["jobs"]) {
    for (const auto& step : job["steps"]) {
      nlohmann::json log = get("/api/v1/steps/" + std::to_string(step["id"].get<int64_t>()) + "/log");
      for (const auto& line : log["lines"]) printed += line.value("text", "") + "\n";
    }
  }
  for (const char* masked : {"plain: ***", "base64: ***", "url: ***", "json: {\"t\": \"***\"}", "stderr: ***"}) {
    EXPECT_NE(printed.find(masked), std::string::npos) << masked << " in\n" << printed;
  }
  std::string report = call("GET", "/api/v1/runs/" + std::to_string(run["id"].get<int64_t>()) + "/report").body;
  EXPECT_NE(report.find("got ***"), std::string::npos) << "the failure message is masked: " << report;
  server_->stop();  // the database's WAL is checkpointed: every byte is in a file to search
  for (const std::string& form : encoded_forms(kToken)) {
    EXPECT_EQ(printed.find(form), std::string::npos) << form;
    EXPECT_EQ(run.dump().find(form), std::string::npos) << form;
    EXPECT_EQ(report.find(form), std::string::npos) << form;
    auto files = files_containing(data(), form);
    EXPECT_TRUE(files.empty()) << form << " found in " << files.front();
  }
}

}  // namespace
}  // namespace slipway::testing
