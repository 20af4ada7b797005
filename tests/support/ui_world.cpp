// ui_world: real deployments and real task runs for the browser test of the web UI
// (tests/browser/ui.test.mjs), made by the real DeploymentController and TaskRunner on dockerd,
// through a registry's notifications, behind HAProxy (DeploymentFixture) — never rows written by
// hand. Two servers: one whose application `hello` had v1 then v2 deployed to production, one
// whose data-task repository had two images pushed (two revisions of each task) and a run of
// `export` that printed to both streams, its secret masked.
//
// Prints one line, "WORLD {json}", with each server's address and admin token once everything has
// happened, then waits until its standard input closes, and stops everything it started
// (servers, HAProxy, containers) before exiting. Exit status 1, with the reason on stderr, when
// something could not be made.
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "support/deployment_fixture.h"

namespace slipway::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<DeploymentFixture> deployed_application(std::string& error) {
  DeploySettings settings;
  settings.health = "{ path: /health, interval: 100ms, timeout: 1s, healthy: 2, unhealthy: 2 }";
  settings.bake = "0s";
  settings.drain = "0s";
  auto fixture = std::make_unique<DeploymentFixture>(settings);
  if (!fixture->error().empty() || fixture->push_version("v1").empty() || !fixture->wait_settled(1, 60s) ||
      fixture->push_version("v2").empty() || !fixture->wait_settled(2, 60s)) {
    error = "deployments: " + fixture->error();
  }
  return fixture;
}

bool all_tasks_at(const DeploymentFixture& fixture, const std::string& digest) {
  auto store = Store::open(fixture.data() / "slipway.db");
  if (!store) return false;
  auto tasks = list_active_tasks(**store, "production");
  if (!tasks || tasks->empty()) return false;
  for (const auto& task : *tasks) {
    if (task.digest != digest) return false;
  }
  return true;
}

bool wait_for(const std::function<bool()>& condition) {
  for (auto give_up = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < give_up;) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Two images pushed (so each task has an inactive and an active revision), then a run of export.
std::unique_ptr<DeploymentFixture> data_tasks_with_a_run(std::string& error) {
  DeploySettings settings;
  settings.repository_file =
      "kind: data-task\ntest:\n  suites:\n    unit: { run: 'true' }\npublish:\n  image: { repository: hello }\n"
      "tasks:\n"
      "  export: { command: [print, \"3\", env, GREETING, env, WAREHOUSE_URL], env: { GREETING: hello }, "
      "secrets: [WAREHOUSE_URL] }\n"
      "  load: { command: [exit, \"0\"] }\n";
  auto fixture = std::make_unique<DeploymentFixture>(settings);
  auto give_up = [&](const std::string& why) {
    error = "data tasks: " + why;
    return std::move(fixture);
  };
  if (!fixture->error().empty()) return give_up(fixture->error());
  for (const char* tag : {"r1", "r2"}) {
    std::string digest = fixture->push_task_version(tag);
    if (digest.empty() || !wait_for([&] { return all_tasks_at(*fixture, digest); })) {
      return give_up(std::string("the push of ") + tag + " made no revisions: " + fixture->error());
    }
  }
  if (!fixture->set_secret("*", "WAREHOUSE_URL", "s3://warehouse/raw")) return give_up(fixture->error());
  HttpAnswer started = http_request(fixture->server().address(), "POST", "/api/v1/tasks/export/runs",
                                    {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken},
                                     {"Content-Type", "application/json"}},
                                    R"({"environment":"production"})");
  int64_t id = nlohmann::json::parse(started.body, nullptr, false)["run"].value("id", int64_t{0});
  if (started.status != 202 || id == 0) return give_up("trigger: " + started.body);
  bool finished = wait_for([&] {
    auto store = Store::open(fixture->data() / "slipway.db");
    auto run = store ? find_task_run(**store, id) : Result<std::optional<TaskRunRecord>>(std::nullopt);
    return run && *run && (*run)->finished_ms != 0;
  });
  if (!finished) return give_up("run #" + std::to_string(id) + " did not finish");
  return fixture;
}

int serve_world() {
  std::string error;
  auto application = deployed_application(error);
  auto tasks = error.empty() ? data_tasks_with_a_run(error) : nullptr;
  if (!error.empty()) {
    std::cerr << "ui_world: " << error << "\n";
    return 1;
  }
  nlohmann::json world = {
      {"deployments", {{"base", "http://" + application->server().address()}, {"token", DeploymentFixture::kAdminToken}}},
      {"tasks", {{"base", "http://" + tasks->server().address()}, {"token", DeploymentFixture::kAdminToken}}}};
  std::cout << "WORLD " << world.dump() << std::endl;
  char byte;
  while (::read(STDIN_FILENO, &byte, 1) > 0) {
  }
  return 0;  // the fixtures' destructors stop the servers, HAProxy and the containers
}

}  // namespace
}  // namespace slipway::testing

int main() { return slipway::testing::serve_world(); }
