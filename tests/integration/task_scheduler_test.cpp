// TaskScheduler with a real TaskRunner (dockerd, a registry holding the test task's image) and a
// clock that runs 60 times faster than the wall's, so that cron minutes pass in a second: a
// schedule fires its task through the runner (trigger "schedule"), a pinned schedule follows its
// task to the revision a new image registered, and a schedule whose task cannot start (a secret
// not set) is told to on_error while the others go on.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/files.h"
#include "cd/container_runtime.h"
#include "cd/task_runner.h"
#include "cd/task_scheduler.h"
#include "publish/docker_engine.h"
#include "store/task_definitions.h"
#include "store/task_runs.h"
#include "support/docker_daemon.h"
#include "support/registry_fixture.h"
#include "support/task_app_image.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::DockerDaemon;
using testing::RegistryOptions;
using testing::RegistryServer;
using testing::TaskAppImage;

class TaskSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(daemon_.error(), "");
    ASSERT_EQ(image_.error(), "");
    ASSERT_EQ(registry_.error(), "");
    auto digest = image_.push(registry_.address() + "/data/task-app", "v1");
    ASSERT_TRUE(digest) << digest.error().message;
    digest_ = *digest;
    auto store = Store::open(database());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    TaskRunnerOptions options;
    options.database = database();
    options.runs_directory = folder_.path() / "task-runs";
    options.containers = &runtime_;
    options.owner = folder_.path().string();
    options.resolve = [](const std::string&, const std::string&) -> Result<TaskEnvironment> {
      return TaskEnvironment{{}, std::nullopt};
    };
    runner_ = std::make_unique<TaskRunner>(std::move(options));
    ASSERT_TRUE(runner_->start().ok());
  }

  void TearDown() override {
    runner_.reset();
    auto left = runtime_.list({{"slipway.owner", folder_.path().string()}});
    ASSERT_TRUE(left);
    for (const auto& container : *left) {
      ADD_FAILURE() << container.name << " was left behind";
      (void)runtime_.remove(container.name, true);
    }
  }

  std::filesystem::path database() const { return folder_.path() / "slipway.db"; }

  TaskRevisionRecord definition(const std::string& task, std::vector<std::string> command,
                                std::vector<std::string> secrets = {}) {
    TaskRevisionRecord revision;
    revision.environment = "production";
    revision.task = task;
    revision.repository = "data-jobs";
    revision.image = registry_.address() + "/data/task-app";
    revision.digest = digest_;
    revision.command = std::move(command);
    revision.secrets = std::move(secrets);
    return revision;
  }

  std::vector<TaskRunRecord> runs_of(const std::string& task) {
    auto runs = list_task_runs(*store_, "production", task, 100);
    return runs ? *runs : std::vector<TaskRunRecord>{};
  }

  // 2026-01-01T00:00:30Z, then 60 ms of cron time for every real millisecond.
  static int64_t fast_clock() {
    static const auto start = std::chrono::steady_clock::now();
    auto real = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return 1'767'225'630'000 + real.count() * 60;
  }

  TemporaryDirectory folder_{"slipway-task-scheduler"};
  DockerDaemon daemon_;
  DockerEngine engine_{DockerDaemon::kSocket};
  TaskAppImage image_{engine_};
  RegistryServer registry_{RegistryOptions{RegistryOptions::Auth::none}};
  DockerContainerRuntime runtime_{DockerDaemon::kSocket};
  std::string digest_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskRunner> runner_;
};

TEST_F(TaskSchedulerTest, SchedulesFireFollowMovedPinsAndReportWhatCannotStart) {
  ASSERT_TRUE(register_task_revisions(*store_, {definition("tick", {"print", "1"}),
                                                definition("pinned", {"print", "1"}),
                                                definition("needs-secret", {"exit", "0"}, {"MISSING"})},
                                      10));
  ServerConfig config;
  config.schedules = {{"every-minute", "tick", "production", "* * * * *", 0},
                      {"pinned-job", "pinned", "production", "* * * * *", 1},
                      {"broken", "needs-secret", "production", "* * * * *", 0}};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  TaskScheduler scheduler(TaskSchedulerOptions{
      database(), &config, runner_.get(),
      [&](const ScheduleConfig& schedule, const std::string& error) {
        std::lock_guard lock(errors_mutex);
        errors.push_back(schedule.name + ": " + error);
      },
      fast_clock});
  ASSERT_TRUE(scheduler.start().ok());

  // A new definition of "pinned" is revision 2; the schedule pinned to 1 moves with it.
  auto moved = register_task_revisions(*store_, {definition("pinned", {"print", "2"})}, 10);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->schedules_moved, 1);

  for (int i = 0; i < 150 && (runs_of("tick").empty() || runs_of("pinned").empty()); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  scheduler.stop();
  auto ticks = runs_of("tick");
  ASSERT_FALSE(ticks.empty()) << "the every-minute schedule never fired";
  EXPECT_EQ(ticks.back().trigger, "schedule");
  auto pinned = runs_of("pinned");
  ASSERT_FALSE(pinned.empty());
  EXPECT_EQ(pinned.back().revision, 2) << "the pinned schedule should have moved to revision 2";
  EXPECT_TRUE(runs_of("needs-secret").empty());
  std::lock_guard lock(errors_mutex);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.front().find("broken: "), std::string::npos);
  EXPECT_NE(errors.front().find("MISSING"), std::string::npos) << errors.front();
  for (const auto& run : ticks) EXPECT_TRUE(runner_->wait(run.id, 30s));
  for (const auto& run : pinned) EXPECT_TRUE(runner_->wait(run.id, 30s));
}

}  // namespace
}  // namespace slipway
