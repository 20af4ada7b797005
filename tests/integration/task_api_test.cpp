// The data-task routes of a real `slipway serve`, over task revisions, schedules and runs written
// into its store before it starts, through the TaskRegistry's and TaskRunner's own store
// functions: the task list over several environments and tasks, one task, its revisions and runs
// and their paging, a run and its log (including a log in the format before chunked logs), the
// trigger route's refusals (bad bodies, weak tokens, unknown tasks), and `slipway task` against
// the same server. The same routes over runs the real TaskRunner made on dockerd are checked in
// tests/acceptance/data_task_test.cpp (expect_api_shows).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "support/command_with_input.h"
#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

using nlohmann::json;

const std::string kAdminToken = "task-api-admin-token-0123456789abcdef";
const std::string kImage = "127.0.0.1:5000/production/orders";
// The first run's log, as the TaskRunner writes it: "<unix ms> <o|e> <text>".
const std::vector<std::string> kLogRecords = {"1767225600100 o exporting orders for 2026-11-25",
                                              "1767225600200 e warning: 2 rows skipped",
                                              "1767225600300 o wrote 1 234 rows"};

std::string digest_of(char letter) { return "sha256:" + std::string(64, letter); }

TaskRevisionRecord definition(const std::string& environment, const std::string& task, char digest) {
  TaskRevisionRecord record;
  record.environment = environment;
  record.task = task;
  record.repository = "etl";
  record.image = kImage;
  record.digest = digest ? digest_of(digest) : "";
  record.command = {"/bin/export", "--day", "yesterday"};
  record.env = {{"FORMAT", "csv"}};
  record.secrets = {"DATABASE_URL"};
  record.cpus = 0.5;
  record.memory_bytes = 64 * 1024 * 1024;
  record.timeout_ms = 30'000;
  record.reason = digest ? "image " + digest_of(digest) + " pushed" : "defined";
  record.created_ms = 1767225000000;
  return record;
}

struct SeededRun {
  std::string environment;
  int64_t revision_id;
  int revision;
  std::string trigger;
  TaskRunStatus status;
  std::string reason;
  int exit_code;
  std::filesystem::path log;
};

void seed_store(const std::filesystem::path& database, const std::filesystem::path& logs) {
  auto store = Store::open(database);
  ASSERT_TRUE(store.ok()) << store.error().message;
  // production: orders-export 1 then 2 (1 becomes inactive), nightly-report 1; staging: orders-export 1.
  auto first = register_task_revisions(**store, {definition("production", "orders-export", 'a'),
                                                 definition("production", "nightly-report", 0)}, 10);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto staging = register_task_revisions(**store, {definition("staging", "orders-export", 'a')}, 10);
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  auto second = register_task_revisions(**store, {definition("production", "orders-export", 'b')}, 10);
  ASSERT_TRUE(second.ok()) << second.error().message;
  // development/quick needs no secret: a trigger starts it (its image cannot be pulled here, so
  // its runs fail on their own, after the 202).
  TaskRevisionRecord quick = definition("development", "quick", 'e');
  quick.secrets.clear();
  auto development = register_task_revisions(**store, {quick}, 10);
  ASSERT_TRUE(development.ok()) << development.error().message;
  Status scheduled = sync_task_schedules(**store, {{"nightly-orders", "production", "orders-export", "0 3 * * *", 0, 0}});
  ASSERT_TRUE(scheduled.ok()) << scheduled.error().message;

  std::ofstream log(logs / "run-1.log", std::ios::binary);
  for (const auto& record : kLogRecords) log << record << "\n";
  log.close();
  // Ids 1..3; run 2's log file was never created (its container never started).
  const std::vector<SeededRun> runs = {
      {"production", first->revision_ids[0], 1, "cli", TaskRunStatus::succeeded, "exited with 0", 0, logs / "run-1.log"},
      {"production", second->revision_ids[0], 2, "api", TaskRunStatus::failed, "exited with 3", 3, logs / "run-2.log"},
      {"staging", staging->revision_ids[0], 1, "schedule", TaskRunStatus::succeeded, "exited with 0", 0, logs / "run-3.log"},
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    TaskRunRecord run;
    run.environment = runs[i].environment;
    run.task = "orders-export";
    run.revision_id = runs[i].revision_id;
    run.revision = runs[i].revision;
    run.trigger = runs[i].trigger;
    run.env = {{"DAY", "2026-11-25"}};
    run.created_ms = 1767225600000 + static_cast<int64_t>(i) * 1000;
    auto id = create_task_run(**store, run);
    ASSERT_TRUE(id.ok()) << id.error().message;
    ASSERT_EQ(*id, static_cast<int64_t>(i + 1));
    TaskRunUpdate ended;
    ended.status = runs[i].status;
    ended.exit_code = runs[i].exit_code;
    ended.reason = runs[i].reason;
    ended.container = "slipway-task-orders-export-" + std::to_string(i + 1);
    ended.log_path = runs[i].log.string();
    ended.started_ms = run.created_ms + 100;
    ended.finished_ms = run.created_ms + 900;
    Status written = update_task_run(**store, *id, ended);
    ASSERT_TRUE(written.ok()) << written.error().message;
  }
}

std::vector<int64_t> numbers_of(const json& list, const char* key) {
  std::vector<int64_t> numbers;
  for (const auto& item : list) numbers.push_back(item.value(key, int64_t{0}));
  return numbers;
}

class TaskApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new TemporaryDirectory("slipway-task-api");
    std::filesystem::create_directories(folder_->path() / "data");
    std::filesystem::create_directories(folder_->path() / "logs");
    seed_store(folder_->path() / "data" / "slipway.db", folder_->path() / "logs");
    std::ofstream(folder_->path() / "slipway.yml")
        << "executor: host\nrepositories:\n  - { name: etl, url: " << folder_->path().string()
        << ", poll_interval: 0s }\n"
        << "schedules:\n  - { name: nightly-orders, task: orders-export, environment: production, cron: \"0 3 * * *\" }\n";
    server_ = new ServerProcess({"--config", (folder_->path() / "slipway.yml").string(), "--data-dir",
                                 (folder_->path() / "data").string()},
                                kAdminToken);
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
  static HttpAnswer trigger(const std::string& body, const std::string& task = "orders-export",
                            const std::string& token = kAdminToken) {
    return call("POST", "/api/v1/tasks/" + task + "/runs", body, token);
  }
  static CommandOutput slipway(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), SLIPWAY_BINARY);
    return run_with_input(arguments, "",
                          {{"SLIPWAY_SERVER", "http://" + server_->address()}, {"SLIPWAY_TOKEN", kAdminToken},
                           {"SLIPWAY_DATA_DIR", std::nullopt}, {"NO_COLOR", "1"}});
  }

  static TemporaryDirectory* folder_;
  static ServerProcess* server_;
};

TemporaryDirectory* TaskApi::folder_ = nullptr;
ServerProcess* TaskApi::server_ = nullptr;

TEST_F(TaskApi, ListsTheActiveRevisionOfEveryTask) {
  json all = get("/api/v1/tasks")["tasks"];
  ASSERT_EQ(all.size(), 4u) << all.dump(2);
  EXPECT_EQ(all[0]["environment"], "development");
  json tasks = get("/api/v1/tasks?environment=production")["tasks"];
  ASSERT_EQ(tasks.size(), 2u) << tasks.dump(2);
  EXPECT_EQ(tasks[0]["environment"], "production");
  EXPECT_EQ(tasks[0]["task"], "nightly-report");
  EXPECT_EQ(tasks[0]["digest"], "");
  EXPECT_EQ(tasks[0]["pinned_image"], kImage);
  json orders = tasks[1];
  EXPECT_EQ(orders["task"], "orders-export");
  EXPECT_EQ(orders["revision"], 2);
  EXPECT_EQ(orders["status"], "active");
  EXPECT_EQ(orders["repository"], "etl");
  EXPECT_EQ(orders["image"], kImage);
  EXPECT_EQ(orders["digest"], digest_of('b'));
  EXPECT_EQ(orders["pinned_image"], kImage + "@" + digest_of('b'));
  EXPECT_EQ(orders["command"], json({"/bin/export", "--day", "yesterday"}));
  EXPECT_EQ(orders["env"], json({{"FORMAT", "csv"}}));
  EXPECT_EQ(orders["secrets"], json({"DATABASE_URL"}));
  EXPECT_DOUBLE_EQ(orders["cpus"].get<double>(), 0.5);
  EXPECT_EQ(orders["memory_bytes"], 64 * 1024 * 1024);
  EXPECT_EQ(orders["timeout_ms"], 30'000);
  EXPECT_EQ(orders["reason"], "image " + digest_of('b') + " pushed");
  EXPECT_GT(orders["created_ms"].get<int64_t>(), 0);
  EXPECT_EQ(all[3]["environment"], "staging");

  json staging = get("/api/v1/tasks?environment=staging")["tasks"];
  ASSERT_EQ(staging.size(), 1u) << staging.dump(2);
  EXPECT_EQ(staging[0]["revision"], 1);
  EXPECT_EQ(get("/api/v1/tasks?environment=nowhere")["tasks"], json::array());
}

TEST_F(TaskApi, ShowsOneTaskWithItsRunsAndSchedules) {
  json detail = get("/api/v1/tasks/orders-export?environment=production");
  EXPECT_EQ(detail["task"]["revision"], 2);
  EXPECT_EQ(numbers_of(detail["runs"], "id"), (std::vector<int64_t>{2, 1}));
  ASSERT_EQ(detail["schedules"].size(), 1u) << detail.dump(2);
  EXPECT_EQ(detail["schedules"][0]["name"], "nightly-orders");
  EXPECT_EQ(detail["schedules"][0]["cron"], "0 3 * * *");
  EXPECT_EQ(get("/api/v1/tasks/orders-export?environment=staging")["schedules"], json::array());

  // In one environment only: it need not be named.
  EXPECT_EQ(get("/api/v1/tasks/nightly-report")["task"]["environment"], "production");
  HttpAnswer ambiguous = call("GET", "/api/v1/tasks/orders-export");
  EXPECT_EQ(ambiguous.status, 400);
  EXPECT_NE(error_of(ambiguous).find("production, staging"), std::string::npos) << ambiguous.body;
  HttpAnswer missing = call("GET", "/api/v1/tasks/nosuch?environment=production");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no task nosuch in production"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nightly-report?environment=staging").status, 404);
}

TEST_F(TaskApi, ListsRevisionsNewestFirst) {
  json revisions = get("/api/v1/tasks/orders-export/revisions?environment=production")["revisions"];
  EXPECT_EQ(numbers_of(revisions, "revision"), (std::vector<int64_t>{2, 1}));
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0]["status"], "active");
  EXPECT_EQ(revisions[1]["status"], "inactive");
  EXPECT_EQ(revisions[1]["digest"], digest_of('a'));
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/orders-export/revisions?environment=production&limit=1")["revisions"],
                       "revision"),
            (std::vector<int64_t>{2}));
  EXPECT_EQ(call("GET", "/api/v1/tasks/orders-export/revisions?environment=production&limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch/revisions?environment=production").status, 404);
}

TEST_F(TaskApi, ListsRunsNewestFirstAndPages) {
  json runs = get("/api/v1/tasks/orders-export/runs?environment=production");
  EXPECT_EQ(numbers_of(runs["runs"], "id"), (std::vector<int64_t>{2, 1}));
  EXPECT_TRUE(runs["next_before"].is_null());
  json failed = runs["runs"][0];
  EXPECT_EQ(failed["environment"], "production");
  EXPECT_EQ(failed["task"], "orders-export");
  EXPECT_EQ(failed["revision"], 2);
  EXPECT_GT(failed["revision_id"].get<int64_t>(), 0);
  EXPECT_EQ(failed["trigger"], "api");
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["exit_code"], 3);
  EXPECT_EQ(failed["reason"], "exited with 3");
  EXPECT_EQ(failed["container"], "slipway-task-orders-export-2");
  EXPECT_EQ(failed["env"], json({{"DAY", "2026-11-25"}}));
  EXPECT_EQ(failed["finished_ms"].get<int64_t>() - failed["started_ms"].get<int64_t>(), 800);
  EXPECT_FALSE(failed.contains("log_path")) << "the server's paths are its own";

  json page = get("/api/v1/tasks/orders-export/runs?environment=production&limit=1");
  EXPECT_EQ(numbers_of(page["runs"], "id"), (std::vector<int64_t>{2}));
  EXPECT_EQ(page["next_before"], 2);
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/orders-export/runs?environment=production&before=2")["runs"], "id"),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/orders-export/runs?environment=staging")["runs"], "id"),
            (std::vector<int64_t>{3}));
  EXPECT_EQ(call("GET", "/api/v1/tasks/orders-export/runs?environment=production&before=x").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/tasks/nosuch/runs?environment=production").status, 404);
}

TEST_F(TaskApi, ShowsARunAndReadsItsLog) {
  json run = get("/api/v1/task-runs/1");
  EXPECT_EQ(run["id"], 1);
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_EQ(run, get("/api/v1/tasks/orders-export/runs?environment=production")["runs"][1]);
  HttpAnswer missing = call("GET", "/api/v1/task-runs/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(error_of(missing).find("no task run #999"), std::string::npos) << missing.body;
  EXPECT_EQ(call("GET", "/api/v1/task-runs/abc").status, 400);

  json log = get("/api/v1/task-runs/1/logs");
  ASSERT_EQ(log["lines"].size(), 3u) << log.dump(2);
  EXPECT_EQ(log["lines"][0], json({{"at_ms", 1767225600100}, {"stream", "stdout"},
                                   {"text", "exporting orders for 2026-11-25"}}));
  EXPECT_EQ(log["lines"][1]["stream"], "stderr");
  EXPECT_EQ(log["lines"][1]["text"], "warning: 2 rows skipped");
  size_t size = std::filesystem::file_size(folder_->path() / "logs" / "run-1.log");
  EXPECT_EQ(log["next_offset"], size);
  EXPECT_EQ(log["finished"], true);
  json rest = get("/api/v1/task-runs/1/logs?offset=" + std::to_string(size));
  EXPECT_EQ(rest["lines"], json::array());
  EXPECT_EQ(rest["finished"], true);
  json from_second = get("/api/v1/task-runs/1/logs?offset=" + std::to_string(kLogRecords[0].size() + 1));
  ASSERT_EQ(from_second["lines"].size(), 2u) << from_second.dump(2);
  EXPECT_EQ(from_second["lines"][1]["text"], "wrote 1 234 rows");

  json never_started = get("/api/v1/task-runs/2/logs");
  EXPECT_EQ(never_started["lines"], json::array());
  EXPECT_EQ(never_started["finished"], true);
  EXPECT_EQ(call("GET", "/api/v1/task-runs/1/logs?offset=-1").status, 400);
}

TEST_F(TaskApi, TriggerRefusesBadBodiesWeakTokensAndUnknownTasks) {
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
  EXPECT_EQ(trigger(R"({"environment": "production"})", "orders-export", reader).status, 403);
  EXPECT_EQ(trigger(R"({"environment": "production"})", "orders-export", "").status, 401);

  HttpAnswer stranger = trigger(R"({"environment": "production"})", "nosuch");
  EXPECT_EQ(stranger.status, 404) << stranger.body;
  EXPECT_NE(error_of(stranger).find("no task nosuch in production"), std::string::npos) << stranger.body;
  HttpAnswer elsewhere = trigger(R"({"environment": "staging"})", "nightly-report");
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;
  HttpAnswer old = trigger(R"({"environment": "production", "revision": 9})");
  EXPECT_EQ(old.status, 404) << old.body;
  EXPECT_NE(error_of(old).find("no revision 9 of task orders-export in production"), std::string::npos) << old.body;
  HttpAnswer bad_via = call("POST", "/api/v1/tasks/quick/runs?via=cron", R"({"environment": "development"})");
  EXPECT_EQ(bad_via.status, 400);
  EXPECT_NE(error_of(bad_via).find("'via'"), std::string::npos) << bad_via.body;
  // The runner refuses what cannot run as things are: a secret the task names is not set.
  HttpAnswer no_secret = trigger(R"({"environment": "production", "env": {"DAY": "2026-11-25"}})");
  EXPECT_EQ(no_secret.status, 409) << no_secret.body;
  EXPECT_NE(error_of(no_secret).find("DATABASE_URL"), std::string::npos) << no_secret.body;
  // None of the refusals made a run.
  EXPECT_EQ(numbers_of(get("/api/v1/tasks/orders-export/runs?environment=production")["runs"], "id"),
            (std::vector<int64_t>{2, 1}));
}

TEST_F(TaskApi, TriggerStartsARunOfTheActiveRevision) {
  HttpAnswer started = trigger(R"({"environment": "development", "env": {"DAY": "2026-11-26"}})", "quick");
  ASSERT_EQ(started.status, 202) << started.body;
  json run = json::parse(started.body)["run"];
  EXPECT_GT(run["id"].get<int64_t>(), 3);
  EXPECT_EQ(run["task"], "quick");
  EXPECT_EQ(run["environment"], "development");
  EXPECT_EQ(run["revision"], 1);
  EXPECT_EQ(run["trigger"], "api");
  EXPECT_EQ(run["env"], json({{"DAY", "2026-11-26"}}));
  EXPECT_EQ(get("/api/v1/task-runs/" + std::to_string(run["id"].get<int64_t>()))["task"], "quick");

  // The CLI's runs say so; the image cannot be pulled here, so --wait ends in failure (exit 1).
  CommandOutput waited = slipway({"task", "run", "quick", "--environment", "development", "--wait"});
  EXPECT_EQ(waited.exit_code, 1) << waited.out << waited.err;
  EXPECT_NE(waited.out.find(" failed"), std::string::npos) << waited.out;
  json runs = get("/api/v1/tasks/quick/runs?environment=development")["runs"];
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

  CommandOutput revisions = slipway({"task", "revisions", "orders-export", "--environment", "production", "--json"});
  ASSERT_EQ(revisions.exit_code, 0) << revisions.err;
  EXPECT_EQ(json::parse(revisions.out, nullptr, false),
            get("/api/v1/tasks/orders-export/revisions?environment=production&limit=20"));

  CommandOutput runs = slipway({"task", "runs", "orders-export", "--environment", "production", "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_EQ(json::parse(runs.out, nullptr, false)["runs"],
            get("/api/v1/tasks/orders-export/runs?environment=production&limit=20")["runs"]);

  CommandOutput show = slipway({"task", "show", "orders-export", "--environment", "production", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out, nullptr, false), get("/api/v1/tasks/orders-export?environment=production"));
}

TEST_F(TaskApi, CliTablesLogsAndRefusals) {
  CommandOutput list = slipway({"task", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("orders-export"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(digest_of('b').substr(7, 12)), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("(no image yet)"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("\x1b["), std::string::npos) << "colour on a pipe";

  CommandOutput revisions = slipway({"task", "revisions", "orders-export", "--environment", "production"});
  ASSERT_EQ(revisions.exit_code, 0) << revisions.err;
  EXPECT_NE(revisions.out.find("inactive"), std::string::npos) << revisions.out;
  EXPECT_NE(revisions.out.find(digest_of('a').substr(7, 12)), std::string::npos) << revisions.out;

  CommandOutput runs = slipway({"task", "runs", "orders-export", "--environment", "production"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("exited with 3"), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("failed"), std::string::npos) << runs.out;

  CommandOutput show = slipway({"task", "show", "orders-export", "--environment", "production"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(kImage + "@" + digest_of('b')), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("nightly-orders \"0 3 * * *\""), std::string::npos) << show.out;

  CommandOutput logs = slipway({"task", "logs", "1"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "exporting orders for 2026-11-25\nwarning: 2 rows skipped\nwrote 1 234 rows\n");
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
  CommandOutput bad_env = slipway({"task", "run", "orders-export", "--environment", "production", "--env", "DAY"});
  EXPECT_EQ(bad_env.exit_code, 2) << bad_env.out;
  EXPECT_NE(bad_env.err.find("--env 'DAY' is not NAME=VALUE"), std::string::npos) << bad_env.err;
  EXPECT_NE(slipway({"task", "run", "orders-export", "--help"}).out.find("--wait"), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
