// The data-task routes of a real `slipway serve` over what its own TaskRegistry and TaskRunner
// made on dockerd (DeploymentFixture): a data-task repository's image pushed twice to
// production (two revisions of each task) and once to staging, a schedule in the configuration,
// and three runs — export twice (by the API and the CLI), report once (it exits 3). The task
// list, one task, its revisions and runs and their paging, a run and its log, the trigger
// route's refusals (bad bodies, weak tokens, unknown tasks, a secret not set), and `slipway task`
// against the same server. Every field answered is compared with what the runner recorded.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/task_log_reader.h"
#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "support/command_with_input.h"
#include "support/deployment_fixture.h"
#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::vector<int64_t> numbers_of(const json& list, const char* key) {
  std::vector<int64_t> numbers;
  for (const auto& item : list) numbers.push_back(item.value(key, int64_t{0}));
  return numbers;
}

DeploySettings task_settings() {
  DeploySettings settings;
  settings.more_environments = {"staging"};
  settings.extra_config =
      "schedules:\n  - { name: nightly-orders, task: export, environment: production, cron: \"0 3 * * *\" }\n";
  settings.repository_file =
      "kind: data-task\ntest:\n  suites:\n    unit: { run: 'true' }\npublish:\n  image: { repository: hello }\n"
      "tasks:\n"
      "  export: { command: [print, \"2\", env, FORMAT], env: { FORMAT: csv }, secrets: [DATABASE_URL], cpus: 0.5, "
      "memory: 64m, timeout: 30s }\n"
      "  report: { command: [print, \"1\", exit, \"3\"] }\n";
  return settings;
}

class TaskApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new DeploymentFixture(task_settings());
    if (!fixture_->error().empty()) return;
    setup_error_ = make_history();
  }
  static void TearDownTestSuite() {
    delete fixture_;  // stops the server and removes the containers, whatever happened
    fixture_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(fixture_->error(), "");
    ASSERT_EQ(setup_error_, "");
  }

  // r1 then r2 to production, r1 to staging; runs 1 (export, API), 2 (report) and 3 (export, CLI).
  static std::string make_history() {
    first_ = fixture_->push_task_version("r1");
    if (first_.empty() || !wait_for_tasks("production", first_)) return "r1 to production: " + fixture_->error();
    second_ = fixture_->push_task_version("r2");
    if (second_.empty() || !wait_for_tasks("production", second_)) return "r2 to production: " + fixture_->error();
    std::string staged = fixture_->push_task_version("r1", fixture_->image_repository_of("staging"));
    if (staged.empty() || !wait_for_tasks("staging", staged)) return "r1 to staging: " + fixture_->error();
    if (!fixture_->set_secret("*", "DATABASE_URL", "postgres://orders:s3cret@127.0.0.1/orders")) return fixture_->error();
    for (const auto& [task, body] : {std::pair{"export", R"({"environment": "production", "env": {"DAY": "2026-11-25"}})"},
                                     std::pair{"report", R"({"environment": "production"})"}}) {
      HttpAnswer started = trigger(body, task);
      int64_t id = json::parse(started.body, nullptr, false)["run"].value("id", int64_t{0});
      if (started.status != 202 || !wait_finished(id)) return std::string("run of ") + task + ": " + started.body;
    }
    CommandOutput cli = slipway({"task", "run", "export", "--environment", "production", "--wait"});
    if (cli.exit_code != 0) return "slipway task run export: " + cli.out + cli.err;
    return "";
  }

  static bool wait_for_tasks(const std::string& environment, const std::string& digest) {
    for (auto give_up = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < give_up;) {
      auto store = Store::open(fixture_->data() / "slipway.db");
      if (!store) return false;
      auto tasks = list_active_tasks(**store, environment);
      if (tasks && tasks->size() == 2 && (*tasks)[0].digest == digest && (*tasks)[1].digest == digest) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  static bool wait_finished(int64_t id) {
    for (auto give_up = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < give_up;) {
      if (auto run = stored_run(id); run && run->finished_ms != 0) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  static std::optional<TaskRunRecord> stored_run(int64_t id) {
    auto store = Store::open(fixture_->data() / "slipway.db");
    if (!store) return std::nullopt;
    auto run = find_task_run(**store, id);
    return run && *run ? std::optional<TaskRunRecord>(**run) : std::nullopt;
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
  static HttpAnswer trigger(const std::string& body, const std::string& task = "export",
                            const std::string& token = DeploymentFixture::kAdminToken) {
    return call("POST", "/api/v1/tasks/" + task + "/runs", body, token);
  }
  static CommandOutput slipway(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return run_with_input(arguments, "",
                          {{"SLIPWAY_SERVER", "http://" + fixture_->server().address()},
                           {"SLIPWAY_TOKEN", DeploymentFixture::kAdminToken}, {"SLIPWAY_DATA_DIR", std::nullopt},
                           {"NO_COLOR", "1"}});
  }

  static DeploymentFixture* fixture_;
  static std::string setup_error_, first_, second_;
};

DeploymentFixture* TaskApi::fixture_ = nullptr;
std::string TaskApi::setup_error_, TaskApi::first_, TaskApi::second_;

TEST_F(TaskApi, ListsTheActiveRevisionOfEveryTask) {
  json all = get("/api/v1/tasks")["tasks"];
  ASSERT_EQ(all.size(), 4u) << all.dump(2);
  EXPECT_EQ(all[0]["environment"], "production");
  EXPECT_EQ(all[3]["environment"], "staging");
  json tasks = get("/api/v1/tasks?environment=production")["tasks"];
  ASSERT_EQ(tasks.size(), 2u) << tasks.dump(2);
  json exported = tasks[0];
  EXPECT_EQ(exported["task"], "export");
  EXPECT_EQ(exported["environment"], "production");
  EXPECT_EQ(exported["revision"], 2);
  EXPECT_EQ(exported["status"], "active");
  EXPECT_EQ(exported["repository"], "hello");
  EXPECT_EQ(exported["image"], fixture_->image_repository());
  EXPECT_EQ(exported["digest"], second_);
  EXPECT_EQ(exported["pinned_image"], fixture_->image_repository() + "@" + second_);
  EXPECT_EQ(exported["command"], json({"print", "2", "env", "FORMAT"}));
  EXPECT_EQ(exported["env"], json({{"FORMAT", "csv"}}));
  EXPECT_EQ(exported["secrets"], json({"DATABASE_URL"}));
  EXPECT_DOUBLE_EQ(exported["cpus"].get<double>(), 0.5);
  EXPECT_EQ(exported["memory_bytes"], 64 * 1024 * 1024);
  EXPECT_EQ(exported["timeout_ms"], 30'000);
  EXPECT_EQ(exported["reason"], "image " + second_.substr(7, 12) + " pushed as r2");
  EXPECT_EQ(tasks[1]["task"], "report");

  json staging = get("/api/v1/tasks?environment=staging")["tasks"];
  ASSERT_EQ(staging.size(), 2u) << staging.dump(2);
  EXPECT_EQ(staging[0]["revision"], 1);
  EXPECT_EQ(staging[0]["image"], fixture_->image_repository_of("staging"));
  EXPECT_EQ(get("/api/v1/tasks?environment=nowhere")["tasks"], json::array());
}

TEST_F(TaskApi, ShowsOneTaskWithItsRunsAndSchedules) {
  json detail = get("/api/v1/tasks/export?environment=production");
  EXPECT_EQ(detail["task"]["revision"], 2);
  EXPECT_EQ(numbers_of(detail["runs"], "id"), (std::vector<int64_t>{3, 1}));
  ASSERT_EQ(detail["schedules"].size(), 1u) << detail.dump(2);
  EXPECT_EQ(detail["schedules"][0]["name"], "nightly-orders");
  EXPECT_EQ(detail["schedules"][0]["cron"], "0 3 * * *");
  EXPECT_EQ(get("/api/v1/tasks/export?environment=staging")["schedules"], json::array());

  HttpAnswer ambiguous = call("GET", "/api/v1/tasks/export");
  EXPECT_EQ(ambiguous.status, 400);
  EXPECT_NE(error_of(ambiguous).find("production, staging"), std::string::npos) << ambiguous.body;
  HttpAnswer missing = call("GET", "/api/v1/tasks/nosuch?environment=production");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no task nosuch in production"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/tasks/export?environment=development").status, 404);
}

TEST_F(TaskApi, ListsRevisionsNewestFirst) {
  json revisions = get("/api/v1/tasks/export/revisions?environment=production")["revisions"];
  EXPECT_EQ(numbers_of(revisions, "revision"), (std::vector<int64_t>{2, 1}));
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0]["status"], "active");
  EXPECT_EQ(revisions[1]["status"], "inactive");
  EXPECT_EQ(revisions[1]["digest"], first_);
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/export/revisions?environment=production&limit=1")["revisions"], "revision"),
            (std::vector<int64_t>{2}));
  EXPECT_EQ(call("GET", "/api/v1/tasks/export/revisions?environment=production&limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch/revisions?environment=production").status, 404);
}

TEST_F(TaskApi, ListsRunsNewestFirstAndPagesAsTheRunnerRecordedThem) {
  json runs = get("/api/v1/tasks/export/runs?environment=production");
  EXPECT_EQ(numbers_of(runs["runs"], "id"), (std::vector<int64_t>{3, 1}));
  EXPECT_TRUE(runs["next_before"].is_null());
  json first = runs["runs"][1];
  auto recorded = stored_run(1);
  ASSERT_TRUE(recorded);
  EXPECT_EQ(first["environment"], "production");
  EXPECT_EQ(first["task"], "export");
  EXPECT_EQ(first["revision"], 2);
  EXPECT_EQ(first["revision_id"], recorded->revision_id);
  EXPECT_EQ(first["trigger"], "api");
  EXPECT_EQ(first["status"], "succeeded");
  EXPECT_EQ(first["exit_code"], 0);
  EXPECT_EQ(first["reason"], recorded->reason);
  EXPECT_EQ(first["container"], recorded->container);
  EXPECT_EQ(first["env"], json({{"DAY", "2026-11-25"}}));
  EXPECT_EQ(first["started_ms"], recorded->started_ms);
  EXPECT_EQ(first["finished_ms"], recorded->finished_ms);
  EXPECT_FALSE(first.contains("log_path")) << "the server's paths are its own";
  EXPECT_EQ(runs["runs"][0]["trigger"], "cli");

  json failed = get("/api/v1/tasks/report/runs?environment=production")["runs"];
  ASSERT_EQ(numbers_of(failed, "id"), (std::vector<int64_t>{2}));
  EXPECT_EQ(failed[0]["status"], "failed");
  EXPECT_EQ(failed[0]["exit_code"], 3);
  EXPECT_EQ(failed[0]["reason"], "exited with 3");

  json page = get("/api/v1/tasks/export/runs?environment=production&limit=1");
  EXPECT_EQ(numbers_of(page["runs"], "id"), (std::vector<int64_t>{3}));
  EXPECT_EQ(page["next_before"], 3);
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/export/runs?environment=production&before=3")["runs"], "id"),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(get("/api/v1/tasks/export/runs?environment=staging")["runs"], json::array());
  EXPECT_EQ(call("GET", "/api/v1/tasks/export/runs?environment=production&before=x").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch/runs?environment=production").status, 404);
}

TEST_F(TaskApi, ShowsARunAndReadsItsLog) {
  json run = get("/api/v1/task-runs/1");
  EXPECT_EQ(run["id"], 1);
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_EQ(run, get("/api/v1/tasks/export/runs?environment=production")["runs"][1]);
  HttpAnswer missing = call("GET", "/api/v1/task-runs/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no task run #999"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/task-runs/abc").status, 400);

  // The log, line for line as the runner stored it.
  auto recorded = stored_run(1);
  ASSERT_TRUE(recorded);
  auto stored = read_task_log(recorded->log_path, 0, 1 << 20);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  json log = get("/api/v1/task-runs/1/logs");
  ASSERT_EQ(log["lines"].size(), stored->lines.size()) << log.dump(2);
  std::vector<std::string> texts;
  for (size_t i = 0; i < stored->lines.size(); ++i) {
    EXPECT_EQ(log["lines"][i]["text"], stored->lines[i].text);
    EXPECT_EQ(log["lines"][i]["stream"], stored->lines[i].stream);
    texts.push_back(stored->lines[i].text);
  }
  EXPECT_NE(std::find(texts.begin(), texts.end(), "FORMAT=csv"), texts.end()) << log.dump(2);
  EXPECT_NE(std::find(texts.begin(), texts.end(), "done printing"), texts.end()) << "stderr too";
  EXPECT_EQ(log["finished"], true);
  json rest = get("/api/v1/task-runs/1/logs?offset=" + std::to_string(log["next_offset"].get<uint64_t>()));
  EXPECT_EQ(rest["lines"], json::array());
  EXPECT_EQ(rest["finished"], true);
  EXPECT_EQ(call("GET", "/api/v1/task-runs/1/logs?offset=-1").status, 400);
}

TEST_F(TaskApi, TriggerRefusesBadBodiesWeakTokensUnknownTasksAndAMissingSecret) {
  HttpAnswer not_json = trigger("{not json");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_NE(error_of(not_json).find("not JSON"), std::string::npos) << not_json.body;
  HttpAnswer unknown = trigger(R"({"environment": "production", "priority": "high"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(error_of(unknown).find("unknown field 'priority'"), std::string::npos) << unknown.body;
  HttpAnswer no_environment = trigger(R"({"env": {"DAY": "2026-11-25"}})");
  EXPECT_EQ(no_environment.status, 400);
  EXPECT_NE(error_of(no_environment).find("'environment' is missing"), std::string::npos) << no_environment.body;
  HttpAnswer number = trigger(R"({"environment": "production", "env": {"DAY": 25}})");
  EXPECT_EQ(number.status, 400);
  EXPECT_NE(error_of(number).find("env 'DAY' must be a string"), std::string::npos) << number.body;
  EXPECT_EQ(trigger(R"({"environment": "production", "env": ["DAY=1"]})").status, 400);
  EXPECT_EQ(trigger(R"({"environment": "production", "env": {"1DAY": "x"}})").status, 400);
  EXPECT_EQ(trigger(R"({"environment": "production", "revision": "2"})").status, 400);
  EXPECT_EQ(trigger(R"({"environment": "production", "revision": 0})").status, 400);
  EXPECT_EQ(trigger(R"({"environment": 7})").status, 400);

  HttpAnswer made = call("POST", "/api/v1/tokens", R"({"name": "viewer", "role": "read-only"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string reader = json::parse(made.body).value("token", "");
  EXPECT_EQ(call("GET", "/api/v1/tasks", "", reader).status, 200);
  EXPECT_EQ(trigger(R"({"environment": "production"})", "export", reader).status, 403);
  EXPECT_EQ(trigger(R"({"environment": "production"})", "export", "").status, 401);

  HttpAnswer stranger = trigger(R"({"environment": "production"})", "nosuch");
  EXPECT_EQ(stranger.status, 404) << stranger.body;
  EXPECT_NE(error_of(stranger).find("no task nosuch in production"), std::string::npos) << stranger.body;
  EXPECT_EQ(trigger(R"({"environment": "development"})").status, 404);
  HttpAnswer old = trigger(R"({"environment": "production", "revision": 9})");
  EXPECT_EQ(old.status, 404) << old.body;
  EXPECT_NE(error_of(old).find("no revision 9 of task export in production"), std::string::npos) << old.body;
  HttpAnswer bad_via = call("POST", "/api/v1/tasks/export/runs?via=cron", R"({"environment": "production"})");
  EXPECT_EQ(bad_via.status, 400);
  EXPECT_NE(error_of(bad_via).find("'via'"), std::string::npos) << bad_via.body;
  // The runner refuses what cannot run as things are: the secret export names is not set in staging.
  HttpAnswer no_secret = trigger(R"({"environment": "staging"})");
  EXPECT_EQ(no_secret.status, 409) << no_secret.body;
  EXPECT_NE(error_of(no_secret).find("DATABASE_URL"), std::string::npos) << no_secret.body;
  // None of the refusals made a run.
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/export/runs?environment=production")["runs"], "id"),
            (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(get("/api/v1/tasks/export/runs?environment=staging")["runs"], json::array());
}

TEST_F(TaskApi, TriggerStartsARunOfTheActiveRevision) {
  HttpAnswer started = trigger(R"({"environment": "production", "env": {"DAY": "2026-11-26"}})");
  ASSERT_EQ(started.status, 202) << started.body;
  json run = json::parse(started.body)["run"];
  EXPECT_EQ(run["id"], 4);
  EXPECT_EQ(run["task"], "export");
  EXPECT_EQ(run["environment"], "production");
  EXPECT_EQ(run["revision"], 2);
  EXPECT_EQ(run["trigger"], "api");
  EXPECT_EQ(run["env"], json({{"DAY", "2026-11-26"}}));
  EXPECT_EQ(get("/api/v1/task-runs/4")["task"], "export");
  ASSERT_TRUE(wait_finished(4));
  EXPECT_EQ(get("/api/v1/task-runs/4")["status"], "succeeded");

  // The CLI waits for the run and exits as it did: report exits 3, so --wait exits 1.
  CommandOutput waited = slipway({"task", "run", "report", "--environment", "production", "--wait"});
  EXPECT_EQ(waited.exit_code, 1) << waited.out << waited.err;
  EXPECT_NE(waited.out.find(" failed"), std::string::npos) << waited.out;
  json runs = get("/api/v1/tasks/report/runs?environment=production")["runs"];
  ASSERT_EQ(runs.size(), 2u) << runs.dump(2);
  EXPECT_EQ(runs[0]["trigger"], "cli");
  EXPECT_EQ(runs[0]["status"], "failed");
  EXPECT_EQ(runs[1]["trigger"], "api");
}

TEST_F(TaskApi, CliPrintsTheSameJsonAsTheApi) {
  CommandOutput list = slipway({"task", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out, nullptr, false), get("/api/v1/tasks"));
  CommandOutput staging = slipway({"task", "list", "--environment", "staging", "--json"});
  ASSERT_EQ(staging.exit_code, 0) << staging.err;
  EXPECT_EQ(json::parse(staging.out, nullptr, false), get("/api/v1/tasks?environment=staging"));

  CommandOutput revisions = slipway({"task", "revisions", "export", "--environment", "production", "--json"});
  ASSERT_EQ(revisions.exit_code, 0) << revisions.err;
  EXPECT_EQ(json::parse(revisions.out, nullptr, false),
            get("/api/v1/tasks/export/revisions?environment=production&limit=20"));

  CommandOutput runs = slipway({"task", "runs", "export", "--environment", "production", "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(json::parse(runs.out, nullptr, false)["runs"],
            get("/api/v1/tasks/export/runs?environment=production&limit=20")["runs"]);

  CommandOutput show = slipway({"task", "show", "export", "--environment", "production", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out, nullptr, false), get("/api/v1/tasks/export?environment=production"));
}

TEST_F(TaskApi, CliTablesLogsAndRefusals) {
  CommandOutput list = slipway({"task", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("export"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(second_.substr(7, 12)), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("\x1b["), std::string::npos) << "colour on a pipe";

  CommandOutput revisions = slipway({"task", "revisions", "export", "--environment", "production"});
  ASSERT_EQ(revisions.exit_code, 0) << revisions.err;
  EXPECT_NE(revisions.out.find("inactive"), std::string::npos) << revisions.out;
  EXPECT_NE(revisions.out.find(first_.substr(7, 12)), std::string::npos) << revisions.out;

  CommandOutput runs = slipway({"task", "runs", "report", "--environment", "production"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("exited with 3"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("failed"), std::string::npos) << runs.out;

  CommandOutput show = slipway({"task", "show", "export", "--environment", "production"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(fixture_->image_repository() + "@" + second_), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("nightly-orders \"0 3 * * *\""), std::string::npos) << show.out;

  CommandOutput logs = slipway({"task", "logs", "1"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  std::string expected;
  json log = get("/api/v1/task-runs/1/logs");
  for (const auto& line : log["lines"]) expected += line.value("text", "") + "\n";
  EXPECT_EQ(logs.out, expected);
  CommandOutput followed = slipway({"task", "logs", "1", "--follow"});
  EXPECT_EQ(followed.exit_code, 0) << followed.err;
  EXPECT_EQ(followed.out, logs.out);

  CommandOutput missing = slipway({"task", "show", "nosuch", "--environment", "production"});
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
  EXPECT_NE(missing.err.find("no task nosuch in production"), std::string::npos) << missing.err;
  EXPECT_EQ(slipway({"task", "logs", "999"}).exit_code, 2);
  CommandOutput run = slipway({"task", "run", "nosuch", "--environment", "production"});
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_NE(run.err.find("no task nosuch in production"), std::string::npos) << run.err;
  CommandOutput bad_env = slipway({"task", "run", "export", "--environment", "production", "--env", "DAY"});
  EXPECT_EQ(bad_env.exit_code, 2) << bad_env.out;
  EXPECT_NE(bad_env.err.find("--env 'DAY' is not NAME=VALUE"), std::string::npos) << bad_env.err;
  EXPECT_NE(slipway({"task", "run", "export", "--help"}).out.find("--wait"), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
