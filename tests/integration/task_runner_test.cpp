// TaskRunner against a real dockerd (started by DockerDaemon when none runs), a real registry on
// 127.0.0.1 holding the test task's image (tests/apps/task_app.c, pinned by its digest) and a
// store in a temporary folder: a run that succeeds with its stdout and stderr in the log file,
// env overrides and secrets reaching the container (masked in the log), a failing exit code, and each bad input of
// issue 6 — a secret not set (refused, nothing recorded or started), an image that does not
// exist, a command that is not found, the memory limit, the timeout — then stop() with a task
// running and start() after a crash. After every test no container of its owner is left.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "base/strings.h"
#include "cd/container_runtime.h"
#include "cd/task_runner.h"
#include "publish/docker_engine.h"
#include "store/store.h"
#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "server/task_log_reader.h"
#include "support/docker_daemon.h"
#include "support/registry_fixture.h"
#include "support/task_app_image.h"

namespace slipway {
namespace {

using testing::DockerDaemon;
using testing::RegistryOptions;
using testing::RegistryServer;
using testing::TaskAppImage;

constexpr Milliseconds kRunLimit{60'000};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

struct LogRecord {
  int64_t at_ms = 0;
  std::string stream;  // "o" or "e"
  std::string text;
};

// The run's log as the API reads it: stream "o" or "e", as the records on disk say.
std::vector<LogRecord> read_log(const std::filesystem::path& log) {
  auto page = read_task_log(log, 0, 1 << 20);
  EXPECT_TRUE(page) << (page ? "" : page.error().message);
  std::vector<LogRecord> records;
  for (const TaskLogLine& line : page ? page->lines : std::vector<TaskLogLine>{}) {
    records.push_back({line.at_ms, line.stream == "stdout" ? "o" : line.stream == "stderr" ? "e" : line.stream, line.text});
  }
  return records;
}

// Every byte the log's files hold on disk, whatever their form.
std::string raw_log_bytes(const std::filesystem::path& log) {
  std::string bytes;
  std::error_code error;
  for (std::filesystem::directory_iterator entry(log, error), end; !error && entry != end; entry.increment(error)) {
    if (auto content = read_file(entry->path())) bytes += *content;
  }
  return bytes;
}

class TaskRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DockerDaemon();
    if (!daemon_->error().empty()) return;
    engine_ = new DockerEngine(daemon_->socket());
    image_ = new TaskAppImage(*engine_);
    registry_ = new RegistryServer(RegistryOptions{RegistryOptions::Auth::none});
    if (!image_->error().empty() || !registry_->error().empty()) return;
    repository_ = registry_->address() + "/data/task-app";
    auto digest = image_->push(repository_, "v1");
    if (digest) digest_ = *digest;
    else push_error_ = digest.error().message;
  }

  static void TearDownTestSuite() {
    delete registry_;
    delete image_;
    delete engine_;
    delete daemon_;
    registry_ = nullptr;
    image_ = nullptr;
    engine_ = nullptr;
    daemon_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(daemon_->error(), "");
    ASSERT_EQ(image_->error(), "");
    ASSERT_EQ(registry_->error(), "");
    ASSERT_EQ(push_error_, "");
    auto store = Store::open(folder_.path() / "slipway.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    runner_ = make_runner();
  }

  void TearDown() override {
    runner_.reset();  // stop()s
    auto left = runtime_.list({{"slipway.owner", owner()}});
    ASSERT_TRUE(left) << left.error().message;
    for (const auto& container : *left) {
      ADD_FAILURE() << "container " << container.name << " (" << container.state << ") was left behind";
      (void)runtime_.remove(container.name, true);
    }
  }

  std::string owner() const { return folder_.path().string(); }

  std::unique_ptr<TaskRunner> make_runner() {
    TaskRunnerOptions options;
    options.database = folder_.path() / "slipway.db";
    options.runs_directory = folder_.path() / "task-runs";
    options.containers = &runtime_;
    options.owner = owner();
    options.resolve = [this](const std::string& repository, const std::string& environment) -> Result<TaskEnvironment> {
      resolved_.push_back(repository + "/" + environment);
      return TaskEnvironment{secrets_, std::nullopt};
    };
    options.on_finished = [this](const TaskRunRecord& run) {
      std::lock_guard lock(finished_mutex_);
      finished_.push_back(run);
    };
    return std::make_unique<TaskRunner>(std::move(options));
  }

  TaskRevisionRecord definition(const std::string& task, std::vector<std::string> command) {
    TaskRevisionRecord revision;
    revision.environment = "staging";
    revision.task = task;
    revision.repository = "data-jobs";
    revision.image = repository_;
    revision.digest = digest_;
    revision.command = std::move(command);
    revision.reason = "test";
    return revision;
  }

  // Registers the revision in the store; returns its id.
  int64_t define(const TaskRevisionRecord& revision) {
    auto registered = register_task_revisions(*store_, {revision}, 10);
    EXPECT_TRUE(registered) << (registered ? "" : registered.error().message);
    return registered && !registered->revision_ids.empty() ? registered->revision_ids[0] : 0;
  }

  TaskRunRecord trigger_and_wait(const std::string& task, std::map<std::string, std::string> env = {}) {
    auto run = runner_->trigger({"staging", task, 0, std::move(env), "cli"});
    EXPECT_TRUE(run) << (run ? "" : run.error().message);
    if (!run) return {};
    EXPECT_TRUE(runner_->wait(run->id, kRunLimit)) << "run #" << run->id << " did not finish";
    return stored_run(run->id);
  }

  TaskRunRecord stored_run(int64_t id) {
    auto found = find_task_run(*store_, id);
    EXPECT_TRUE(found && *found) << "run #" << id << " is not in the store";
    return found && *found ? **found : TaskRunRecord{};
  }

  // Until the run reads "running" (its container started).
  bool wait_running(int64_t id) {
    for (int i = 0; i < 300; ++i) {
      if (stored_run(id).status == TaskRunStatus::running) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  bool container_exists(const std::string& name) {
    auto details = runtime_.inspect(name);
    EXPECT_TRUE(details) << (details ? "" : details.error().message);
    return details && details->has_value();
  }

  std::vector<LogRecord> log_of(const TaskRunRecord& run) { return read_log(run.log_path); }

  static DockerDaemon* daemon_;
  static DockerEngine* engine_;
  static TaskAppImage* image_;
  static RegistryServer* registry_;
  static std::string repository_;
  static std::string digest_;
  static std::string push_error_;

  TemporaryDirectory folder_{"slipway-task-runner"};
  DockerContainerRuntime runtime_{DockerDaemon::kSocket};
  std::unique_ptr<Store> store_;
  std::map<std::string, std::string> secrets_;
  std::vector<std::string> resolved_;
  std::mutex finished_mutex_;
  std::vector<TaskRunRecord> finished_;
  std::unique_ptr<TaskRunner> runner_;
};

DockerDaemon* TaskRunnerTest::daemon_ = nullptr;
DockerEngine* TaskRunnerTest::engine_ = nullptr;
TaskAppImage* TaskRunnerTest::image_ = nullptr;
RegistryServer* TaskRunnerTest::registry_ = nullptr;
std::string TaskRunnerTest::repository_;
std::string TaskRunnerTest::digest_;
std::string TaskRunnerTest::push_error_;

TEST_F(TaskRunnerTest, ContainerNamesArePerRunPerServerAndLegal) {
  std::string hash = sha256_hex("/srv/slipway").substr(0, 8);
  EXPECT_EQ(task_container_name("orders-export", "production", "/srv/slipway", 17),
            "slipway-task-orders-export-production-" + hash + "-17");
  EXPECT_EQ(task_container_name("orders export", "eu/prod", "/srv/slipway", 3),
            "slipway-task-orders-export-eu-prod-" + hash + "-3");
  EXPECT_NE(task_container_name("a", "b", "/srv/one", 1), task_container_name("a", "b", "/srv/two", 1));
}

TEST_F(TaskRunnerTest, ARunSucceedsWithItsOutputInTheLogFile) {
  int64_t revision_id = define(definition("export", {"/task", "print", "3", "exit", "0"}));
  ASSERT_TRUE(runner_->start());
  auto queued = runner_->trigger({"staging", "export", 0, {}, "api"});
  ASSERT_TRUE(queued) << queued.error().message;
  EXPECT_EQ(queued->status, TaskRunStatus::queued);
  EXPECT_EQ(queued->trigger, "api");
  EXPECT_EQ(queued->revision, 1);
  EXPECT_EQ(queued->revision_id, revision_id);
  EXPECT_EQ(queued->container, task_container_name("export", "staging", owner(), queued->id));
  EXPECT_EQ(queued->log_path, (folder_.path() / "task-runs" / std::to_string(queued->id) / "log").string());
  ASSERT_TRUE(runner_->wait(queued->id, kRunLimit));

  TaskRunRecord run = stored_run(queued->id);
  EXPECT_EQ(run.status, TaskRunStatus::succeeded) << run.reason;
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.reason, "exited with 0");
  EXPECT_GE(run.started_ms, run.created_ms);
  EXPECT_GE(run.finished_ms, run.started_ms);
  EXPECT_FALSE(container_exists(run.container)) << "the container goes when the run ends";

  std::vector<LogRecord> log = log_of(run);
  ASSERT_EQ(log.size(), 4u);
  // Each stream keeps its order; the Engine does not promise one between stdout and stderr.
  std::vector<std::string> out, err;
  for (const LogRecord& record : log) {
    EXPECT_GE(record.at_ms, run.created_ms);
    EXPECT_LE(record.at_ms, run.finished_ms);
    if (record.stream == "o") out.push_back(record.text);
    else if (record.stream == "e") err.push_back(record.text);
    else ADD_FAILURE() << "a record with stream '" << record.stream << "': " << record.text;
  }
  EXPECT_EQ(out, (std::vector<std::string>{"line 1", "line 2", "line 3"}));
  EXPECT_EQ(err, (std::vector<std::string>{"done printing"}));

  std::lock_guard lock(finished_mutex_);
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(finished_[0].id, run.id);
  EXPECT_EQ(finished_[0].status, TaskRunStatus::succeeded);
}

TEST_F(TaskRunnerTest, EnvOverridesAndSecretsReachTheContainer) {
  TaskRevisionRecord revision =
      definition("greet", {"/task", "env", "GREETING", "env", "MODE", "env", "DB_PASSWORD", "env", "UNLISTED"});
  revision.env = {{"GREETING", "hello"}, {"MODE", "definition"}};
  revision.secrets = {"DB_PASSWORD"};
  define(revision);
  secrets_ = {{"DB_PASSWORD", "s3cret"}, {"UNLISTED", "not for this task"}};
  TaskRunRecord run = trigger_and_wait("greet", {{"MODE", "override"}});
  EXPECT_EQ(run.status, TaskRunStatus::succeeded) << run.reason;
  EXPECT_EQ(run.env, (std::map<std::string, std::string>{{"MODE", "override"}})) << "overrides only, never secrets";
  ASSERT_EQ(resolved_, (std::vector<std::string>{"data-jobs/staging"}));
  std::vector<std::string> lines;
  for (const LogRecord& record : log_of(run)) lines.push_back(record.text);
  // The secret reached the container (it printed it) and its value never reached the log.
  EXPECT_EQ(lines, (std::vector<std::string>{"GREETING=hello", "MODE=override", "DB_PASSWORD=***",
                                             "UNLISTED is not set"}));
  std::string content = raw_log_bytes(run.log_path);
  EXPECT_FALSE(content.empty());
  EXPECT_FALSE(contains(content, "s3cret"));
}

TEST_F(TaskRunnerTest, ANonZeroExitFailsTheRunWithItsCode) {
  define(definition("broken", {"/task", "print", "1", "exit", "3"}));
  TaskRunRecord run = trigger_and_wait("broken");
  EXPECT_EQ(run.status, TaskRunStatus::failed);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.reason, "exited with 3");
  EXPECT_EQ(log_of(run).size(), 2u);
}

TEST_F(TaskRunnerTest, BadRequestsAreRefusedBeforeAnythingIsRecordedOrStarted) {
  TaskRevisionRecord needs_secret = definition("secretive", {"/task", "exit", "0"});
  needs_secret.secrets = {"API_KEY"};
  define(needs_secret);
  TaskRevisionRecord no_image = definition("imageless", {"/task", "exit", "0"});
  no_image.digest = "";
  define(no_image);
  define(definition("plain", {"/task", "exit", "0"}));

  auto secret = runner_->trigger({"staging", "secretive", 0, {}, "cli"});
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().message, "task secretive needs secret API_KEY, which is not set for data-jobs in staging: "
                                    "slipway secret set data-jobs staging API_KEY (or '*' for every repository)");

  auto unknown = runner_->trigger({"staging", "nope", 0, {}, "cli"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no task nope in staging (slipway task list)");

  auto revision = runner_->trigger({"staging", "plain", 9, {}, "cli"});
  ASSERT_FALSE(revision);
  EXPECT_EQ(revision.error().message, "task plain has no revision 9 in staging");

  auto imageless = runner_->trigger({"staging", "imageless", 0, {}, "cli"});
  ASSERT_FALSE(imageless);
  EXPECT_EQ(imageless.error().message, "task imageless in staging has no image yet: push its image first");

  auto bad_name = runner_->trigger({"staging", "plain", 0, {{"1BAD-NAME", "x"}}, "cli"});
  ASSERT_FALSE(bad_name);
  EXPECT_TRUE(contains(bad_name.error().message, "'1BAD-NAME' is not a valid variable name")) << bad_name.error().message;

  secrets_ = {{"API_KEY", "k"}};
  auto overriding = runner_->trigger({"staging", "secretive", 0, {{"API_KEY", "mine"}}, "cli"});
  ASSERT_FALSE(overriding);
  EXPECT_TRUE(contains(overriding.error().message, "API_KEY is a secret of task secretive")) << overriding.error().message;

  auto runs = list_task_runs(*store_, "", "", 100);
  ASSERT_TRUE(runs) << runs.error().message;
  EXPECT_TRUE(runs->empty()) << "a refused trigger records nothing";
  EXPECT_FALSE(std::filesystem::exists(folder_.path() / "task-runs" / "1"));
}

TEST_F(TaskRunnerTest, AnImageThatDoesNotExistFailsTheRunNamingIt) {
  TaskRevisionRecord revision = definition("ghost", {"/task", "exit", "0"});
  revision.image = registry_->address() + "/data/never-pushed";
  revision.digest = "sha256:" + std::string(64, '0');
  define(revision);
  TaskRunRecord run = trigger_and_wait("ghost");
  EXPECT_EQ(run.status, TaskRunStatus::failed);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_TRUE(contains(run.reason, revision.pinned_image())) << run.reason;
  EXPECT_EQ(run.started_ms, 0) << "it never started";
  EXPECT_FALSE(container_exists(run.container));
}

TEST_F(TaskRunnerTest, ACommandThatIsNotFoundFailsQuotingTheEngine) {
  define(definition("typo", {"no-such-program", "--now"}));
  TaskRunRecord run = trigger_and_wait("typo");
  EXPECT_EQ(run.status, TaskRunStatus::failed);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_TRUE(contains(run.reason, "executable file not found")) << run.reason;
  EXPECT_TRUE(contains(run.reason, "no-such-program")) << run.reason;
  EXPECT_FALSE(container_exists(run.container));
}

TEST_F(TaskRunnerTest, ExceedingTheMemoryLimitFailsTheRun) {
  TaskRevisionRecord revision = definition("hungry", {"/task", "allocate", "512"});
  revision.memory_bytes = 32 << 20;
  define(revision);
  TaskRunRecord run = trigger_and_wait("hungry");
  EXPECT_EQ(run.status, TaskRunStatus::failed);
  EXPECT_EQ(run.reason, "killed: out of memory (limit 32 MiB)");
  EXPECT_EQ(run.exit_code, 137);
  EXPECT_FALSE(container_exists(run.container));
}

TEST_F(TaskRunnerTest, ARunPastItsTimeoutIsKilledAndTimedOut) {
  TaskRevisionRecord revision = definition("slow", {"/task", "print", "1", "sleep", "60000"});
  revision.timeout_ms = 3'000;
  define(revision);
  auto queued = runner_->trigger({"staging", "slow", 0, {}, "cli"});
  ASSERT_TRUE(queued) << queued.error().message;
  ASSERT_TRUE(wait_running(queued->id));
  // Its output is in the file while it still runs: written line by line, for the API to stream.
  std::vector<LogRecord> early;
  // Waits for the two lines (a generous deadline, only a hang guard: the run sleeps far longer).
  for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       early.size() < 2 && std::chrono::steady_clock::now() < give_up;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    early = read_log(queued->log_path);
  }
  EXPECT_EQ(stored_run(queued->id).status, TaskRunStatus::running);
  ASSERT_EQ(early.size(), 2u);

  ASSERT_TRUE(runner_->wait(queued->id, kRunLimit));
  TaskRunRecord run = stored_run(queued->id);
  EXPECT_EQ(run.status, TaskRunStatus::timed_out);
  EXPECT_EQ(run.reason, "timed out after 3s");
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_FALSE(container_exists(run.container));
  EXPECT_EQ(log_of(run).size(), 2u) << "what it printed before the timeout is kept";
}

TEST_F(TaskRunnerTest, WaitingForARunThatDoesNotExistIsFalse) {
  EXPECT_FALSE(runner_->wait(4242, Milliseconds(100)));
}

TEST_F(TaskRunnerTest, StopInterruptsARunningTaskAndLeavesNoContainer) {
  define(definition("long", {"/task", "sleep", "60000"}));
  ASSERT_TRUE(runner_->start());
  auto run = runner_->trigger({"staging", "long", 0, {}, "schedule"});
  ASSERT_TRUE(run) << run.error().message;
  ASSERT_TRUE(wait_running(run->id));
  ASSERT_TRUE(container_exists(run->container));
  runner_->stop();
  TaskRunRecord stopped = stored_run(run->id);
  EXPECT_EQ(stopped.status, TaskRunStatus::interrupted);
  EXPECT_EQ(stopped.reason, "the server stopped");
  EXPECT_FALSE(container_exists(run->container));
  EXPECT_TRUE(runner_->wait(run->id, Milliseconds(100)));
  runner_->stop();  // idempotent
  auto refused = runner_->trigger({"staging", "long", 0, {}, "cli"});
  EXPECT_FALSE(refused) << "a stopped runner starts nothing";
}

TEST_F(TaskRunnerTest, StartAfterACrashInterruptsLeftRunsAndRemovesTheirContainers) {
  int64_t revision_id = define(definition("etl", {"/task", "sleep", "60000"}));
  // What a killed server leaves: a run "running" with its container, a run still "queued", and
  // a labelled container whose run was never written.
  TaskRunRecord running;
  running.environment = "staging";
  running.task = "etl";
  running.revision_id = revision_id;
  running.revision = 1;
  running.status = TaskRunStatus::queued;
  auto running_id = create_task_run(*store_, running);
  ASSERT_TRUE(running_id) << running_id.error().message;
  std::string container = task_container_name("etl", "staging", owner(), *running_id);
  TaskRunUpdate started;
  started.status = TaskRunStatus::running;
  started.container = container;
  started.started_ms = now_ms();
  ASSERT_TRUE(update_task_run(*store_, *running_id, started));
  auto queued_id = create_task_run(*store_, running);
  ASSERT_TRUE(queued_id) << queued_id.error().message;

  auto make_container = [&](const std::string& name, int64_t run_id) {
    ContainerSpec spec;
    spec.name = name;
    spec.image = repository_ + "@" + digest_;
    spec.command = {"/task", "sleep", "60000"};
    spec.labels = {{"slipway.owner", owner()}, {"slipway.task-run", std::to_string(run_id)},
                   {"slipway.task", "etl"}, {"slipway.environment", "staging"}};
    auto id = runtime_.create(spec);
    ASSERT_TRUE(id) << id.error().message;
    ASSERT_TRUE(runtime_.start(*id));
  };
  make_container(container, *running_id);
  std::string orphan = task_container_name("etl", "staging", owner(), 999);
  make_container(orphan, 999);
  ASSERT_TRUE(container_exists(container));

  ASSERT_TRUE(runner_->start());
  for (int64_t id : {*running_id, *queued_id}) {
    TaskRunRecord run = stored_run(id);
    EXPECT_EQ(run.status, TaskRunStatus::interrupted) << "run #" << id;
    EXPECT_EQ(run.reason, "the server restarted") << "run #" << id;
    EXPECT_GT(run.finished_ms, 0) << "run #" << id;
    EXPECT_TRUE(runner_->wait(id, Milliseconds(100)));
  }
  EXPECT_FALSE(container_exists(container));
  EXPECT_FALSE(container_exists(orphan));
  auto unfinished = unfinished_task_runs(*store_);
  ASSERT_TRUE(unfinished) << unfinished.error().message;
  EXPECT_TRUE(unfinished->empty());
}

}  // namespace
}  // namespace slipway
