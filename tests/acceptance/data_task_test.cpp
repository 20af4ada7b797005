// Data tasks end to end on real components: an image pushed to a real registry notifies a real
// `slipway serve`, which gives every task definition using that image a new revision pinned to
// the digest (and tells the chat channel once); nothing runs until a task is triggered, through
// the CLI or the API, and then its container runs on the Docker Engine with the environment's
// secrets, its output in the run's log, its exit code recorded. Bad input — a secret not set, a
// container over its memory limit, an API trigger with unknown fields — is refused or recorded
// with a clear reason and leaves nothing running.
#include <gtest/gtest.h>

#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "server/task_log_reader.h"
#include "support/deployment_fixture.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::DeploymentFixture;
using testing::DeploySettings;

// A data-task repository's .slipway.yml with these `tasks:` lines.
std::string data_task_repository(const std::string& tasks) {
  return "kind: data-task\n"
         "test:\n"
         "  suites:\n"
         "    unit: { run: 'true' }\n"
         "publish:\n"
         "  image: { repository: hello }\n"
         "tasks:\n" + tasks;
}

// The image's ENTRYPOINT is /task; a task's command replaces the image's CMD, as in ECS.
DeploySettings data_task_settings() {
  DeploySettings settings;
  settings.repository_file = data_task_repository(R"(
  export: { command: [print, "3", env, GREETING, env, WAREHOUSE_URL], env: { GREETING: hello }, secrets: [WAREHOUSE_URL] }
  load: { command: [exit, "0"] }
  hungry: { command: [allocate, "256"], memory: 64m }
)");
  return settings;
}

std::vector<TaskRevisionRecord> active_tasks(const DeploymentFixture& fixture) {
  auto store = Store::open(fixture.data() / "slipway.db");
  if (!store) return {};
  auto tasks = list_active_tasks(**store, "production");
  return tasks ? *tasks : std::vector<TaskRevisionRecord>{};
}

// Waits until every task of the fixture is active at `digest`.
bool wait_for_digest(const DeploymentFixture& fixture, const std::string& digest, size_t count) {
  for (int i = 0; i < 200; ++i) {
    auto tasks = active_tasks(fixture);
    size_t at = 0;
    for (const auto& task : tasks) at += task.digest == digest;
    if (at == count) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

testing::HttpAnswer trigger(DeploymentFixture& fixture, const std::string& task, const std::string& body) {
  return testing::http_request(fixture.server().address(), "POST", "/api/v1/tasks/" + task + "/runs",
                               {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken},
                                {"Content-Type", "application/json"}},
                               body);
}

std::optional<TaskRunRecord> wait_for_run(const DeploymentFixture& fixture, int64_t id) {
  for (int i = 0; i < 600; ++i) {
    auto store = Store::open(fixture.data() / "slipway.db");
    if (store) {
      auto run = find_task_run(**store, id);
      if (run && *run && (*run)->finished_ms != 0) return **run;
    }
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

TEST(DataTaskTest, APushedImageMovesEveryTaskToANewRevisionPinnedToItsDigest) {
  DeploymentFixture fixture(data_task_settings());
  ASSERT_EQ(fixture.error(), "");
  std::string first = fixture.push_task_version("r1");
  ASSERT_FALSE(first.empty()) << fixture.error();
  ASSERT_TRUE(wait_for_digest(fixture, first, 3)) << fixture.server().log();
  for (const auto& task : active_tasks(fixture)) {
    EXPECT_EQ(task.revision, 1) << task.task;
    EXPECT_EQ(task.pinned_image(), fixture.image_repository() + "@" + first);
  }

  std::string second = fixture.push_task_version("r2");
  ASSERT_FALSE(second.empty()) << fixture.error();
  ASSERT_NE(first, second);
  ASSERT_TRUE(wait_for_digest(fixture, second, 3)) << fixture.server().log();
  auto store = Store::open(fixture.data() / "slipway.db");
  ASSERT_TRUE(store);
  auto revisions = list_task_revisions(**store, "production", "export", 10);
  ASSERT_TRUE(revisions);
  ASSERT_EQ(revisions->size(), 2u);
  EXPECT_EQ((*revisions)[0].revision, 2);
  EXPECT_EQ((*revisions)[0].status, "active");
  EXPECT_EQ((*revisions)[1].status, "inactive");
  EXPECT_EQ((*revisions)[1].digest, first);

  // Nothing ran: a new image only moves definitions.
  auto runs = list_task_runs(**store, "", "", 10);
  ASSERT_TRUE(runs);
  EXPECT_TRUE(runs->empty());

  // One notice per push, listing what changed.
  ASSERT_TRUE(fixture.webhook().wait_for(2, 10s));
  int revised = 0;
  for (const auto& message : fixture.webhook().messages()) {
    auto body = nlohmann::json::parse(message.body, nullptr, false);
    if (body.is_object() && body.value("event", "") == "tasks.revised") {
      ++revised;
      EXPECT_NE(body.value("text", "").find("export r"), std::string::npos) << body.dump();
    }
  }
  EXPECT_EQ(revised, 2);
}

testing::HttpAnswer api_get(DeploymentFixture& fixture, const std::string& target) {
  return testing::http_request(fixture.server().address(), "GET", target,
                               {{"Authorization", std::string("Bearer ") + DeploymentFixture::kAdminToken}});
}

// The task API and `slipway task logs` over a run the TaskRunner made: every field as the runner
// recorded it, the run first in its task's list, and its log — masked — line for line as stored.
void expect_api_shows(DeploymentFixture& fixture, const TaskRunRecord& run, const std::vector<TaskLogLine>& lines) {
  auto shown = nlohmann::json::parse(api_get(fixture, "/api/v1/task-runs/" + std::to_string(run.id)).body, nullptr, false);
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown["status"], std::string(to_text(run.status)));
  EXPECT_EQ(shown["exit_code"], run.exit_code);
  EXPECT_EQ(shown["trigger"], run.trigger);
  EXPECT_EQ(shown["revision"], run.revision);
  EXPECT_EQ(shown["reason"], run.reason);
  EXPECT_EQ(shown["container"], run.container);
  EXPECT_EQ(shown["env"], nlohmann::json(run.env));
  EXPECT_EQ(shown["created_ms"], run.created_ms);
  EXPECT_EQ(shown["started_ms"], run.started_ms);
  EXPECT_EQ(shown["finished_ms"], run.finished_ms);
  auto listed = nlohmann::json::parse(
      api_get(fixture, "/api/v1/tasks/" + run.task + "/runs?environment=" + run.environment).body, nullptr, false);
  ASSERT_TRUE(listed.is_object() && !listed["runs"].empty()) << listed.dump();
  EXPECT_EQ(listed["runs"][0], shown) << "the newest run comes first, the same as alone";
  auto log = nlohmann::json::parse(api_get(fixture, "/api/v1/task-runs/" + std::to_string(run.id) + "/logs").body,
                                   nullptr, false);
  ASSERT_TRUE(log.is_object()) << log.dump();
  EXPECT_EQ(log["finished"], true);
  ASSERT_EQ(log["lines"].size(), lines.size()) << log.dump(2);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(log["lines"][i]["text"], lines[i].text);
  CommandOutput cli = testing::run_with_input({SLIPWAY_BINARY, "task", "logs", std::to_string(run.id)}, "",
                                              {{"SLIPWAY_SERVER", "http://" + fixture.server().address()},
                                               {"SLIPWAY_TOKEN", DeploymentFixture::kAdminToken}, {"NO_COLOR", "1"}});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  for (const TaskLogLine& line : lines) EXPECT_NE(cli.out.find(line.text), std::string::npos) << cli.out;
}

TEST(DataTaskTest, ATriggeredRunUsesTheSecretsAndRecordsItsOutputAndExitCode) {
  DeploymentFixture fixture(data_task_settings());
  ASSERT_EQ(fixture.error(), "");
  std::string digest = fixture.push_task_version("r1");
  ASSERT_FALSE(digest.empty()) << fixture.error();
  ASSERT_TRUE(wait_for_digest(fixture, digest, 3)) << fixture.server().log();

  // A secret the task needs is not set: refused before anything starts, saying which.
  testing::HttpAnswer refused = trigger(fixture, "export", R"({"environment":"production"})");
  EXPECT_GE(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("WAREHOUSE_URL"), std::string::npos) << refused.body;
  // Unknown fields: refused, named.
  testing::HttpAnswer unknown = trigger(fixture, "load", R"({"environment":"production","revison":1})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("revison"), std::string::npos) << unknown.body;

  ASSERT_TRUE(fixture.set_secret("*", "WAREHOUSE_URL", "s3://warehouse/raw")) << fixture.error();
  testing::HttpAnswer started =
      trigger(fixture, "export", R"({"environment":"production","env":{"GREETING":"bonjour"}})");
  ASSERT_EQ(started.status, 202) << started.body;
  auto body = nlohmann::json::parse(started.body, nullptr, false);
  int64_t id = body["run"].value("id", 0);
  ASSERT_GT(id, 0) << started.body;
  auto run = wait_for_run(fixture, id);
  ASSERT_TRUE(run) << fixture.server().log();
  EXPECT_EQ(run->status, TaskRunStatus::succeeded) << run->reason;
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->revision, 1);
  EXPECT_EQ(run->trigger, "api");
  auto page = read_task_log(run->log_path, 0, 1 << 20);
  ASSERT_TRUE(page) << run->log_path;
  std::string text;
  for (const TaskLogLine& line : page->lines) text += line.text + "\n";
  auto log = &text;
  EXPECT_NE(log->find("line 3"), std::string::npos) << *log;
  EXPECT_NE(log->find("GREETING=bonjour"), std::string::npos) << *log;
  // The secret reached the container, and its log shows it masked, as a CI step's would.
  EXPECT_NE(log->find("WAREHOUSE_URL=***"), std::string::npos) << *log;
  EXPECT_EQ(log->find("s3://warehouse/raw"), std::string::npos) << *log;
  expect_api_shows(fixture, *run, page->lines);

  // The CLI: `slipway task run … --wait` exits 0 for a task that succeeds.
  CommandOutput cli = testing::run_with_input({SLIPWAY_BINARY, "task", "run", "load", "--environment", "production", "--wait"},
                                     "", {{"SLIPWAY_SERVER", "http://" + fixture.server().address()},
                                          {"SLIPWAY_TOKEN", DeploymentFixture::kAdminToken}});
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;

  // A container over its memory limit: the run fails and says why; nothing is left running.
  testing::HttpAnswer hungry = trigger(fixture, "hungry", R"({"environment":"production"})");
  ASSERT_EQ(hungry.status, 202) << hungry.body;
  int64_t hungry_id = nlohmann::json::parse(hungry.body, nullptr, false)["run"].value("id", 0);
  auto over = wait_for_run(fixture, hungry_id);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, TaskRunStatus::failed);
  EXPECT_NE(over->reason.find("out of memory"), std::string::npos) << over->reason;
  // Its container is removed right after the run is recorded (the Engine may still be at it).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = fixture.containers().empty();
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(gone) << testing::describe_containers(fixture.containers());
}

// A task that prints its secret as a leaking program would — plain, base64, URL- and
// JSON-encoded (tests/apps/task_app.c `encode`). What stops it: the task log is written through
// the same SecretMasker as a CI step's log, so `slipway task logs` shows *** for every form; the
// log file is 0600 and its folder 0700.
TEST(DataTaskTest, ASecretPrintedEncodedShowsMaskedInTheTaskLogs) {
  DeploySettings settings;
  settings.repository_file =
      data_task_repository("  leak: { command: [env, API_KEY, encode, API_KEY], secrets: [API_KEY] }\n");
  DeploymentFixture fixture(settings);
  ASSERT_EQ(fixture.error(), "");
  const std::string secret = "Sup3r\"Secret/Key+Value";
  ASSERT_TRUE(fixture.set_secret("*", "API_KEY", secret)) << fixture.error();
  std::string digest = fixture.push_task_version("r1");
  ASSERT_FALSE(digest.empty()) << fixture.error();
  ASSERT_TRUE(wait_for_digest(fixture, digest, 1)) << fixture.server().log();

  testing::HttpAnswer started = trigger(fixture, "leak", R"({"environment":"production"})");
  ASSERT_EQ(started.status, 202) << started.body;
  int64_t id = nlohmann::json::parse(started.body, nullptr, false)["run"].value("id", 0);
  auto run = wait_for_run(fixture, id);
  ASSERT_TRUE(run) << fixture.server().log();
  EXPECT_EQ(run->status, TaskRunStatus::succeeded) << run->reason;

  CommandOutput logs = testing::run_with_input({SLIPWAY_BINARY, "task", "logs", std::to_string(id)}, "",
                                               {{"SLIPWAY_SERVER", "http://" + fixture.server().address()},
                                                {"SLIPWAY_TOKEN", DeploymentFixture::kAdminToken}});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  for (const char* line : {"API_KEY=***", "API_KEY base64 ***", "API_KEY url ***", "API_KEY json ***"}) {
    EXPECT_NE(logs.out.find(line), std::string::npos) << line << " not in:\n" << logs.out;
  }
  for (const char* form : {"Sup3r", "U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ", "%2FKey%2BValue", "Secret/Key+Value"}) {
    EXPECT_EQ(logs.out.find(form), std::string::npos) << form << " in:\n" << logs.out;
  }
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(fs::path(run->log_path).parent_path()).permissions(), fs::perms::owner_all);
  int chunks = 0;
  for (const auto& chunk : fs::directory_iterator(run->log_path)) {
    EXPECT_EQ(chunk.status().permissions(), fs::perms::owner_read | fs::perms::owner_write) << chunk.path();
    ++chunks;
  }
  EXPECT_GT(chunks, 0);
}

}  // namespace
}  // namespace slipway
