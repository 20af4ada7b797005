// The task_runs table on a real SQLite file: a run is created "queued" with its event, updates
// keep the fields they leave empty and log "task.run.<status>", listing pages newest first with
// filters, the unfinished runs are the ones a restart marks interrupted, and an unknown id is an
// error.
#include "store/task_runs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/events.h"
#include "store/task_definitions.h"

namespace slipway {
namespace {

class TaskRunsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(directory_.path() / "slipway.db");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    TaskRevisionRecord revision;
    revision.environment = "prod";
    revision.task = "orders-etl";
    revision.image = "127.0.0.1:5000/prod/orders-etl";
    auto registered = register_task_revisions(*store_, {revision}, 10);
    ASSERT_TRUE(registered) << registered.error().message;
    revision_id_ = registered->revision_ids.at(0);
  }

  TaskRunRecord sample(std::string task = "orders-etl", std::string environment = "prod") {
    TaskRunRecord run;
    run.environment = std::move(environment);
    run.task = std::move(task);
    run.revision_id = run.task == "orders-etl" && run.environment == "prod" ? revision_id_ : 0;
    run.revision = 1;
    run.trigger = "cli";
    run.env = {{"DAY", "2026-01-02"}, {"NOTE", "quote \" and ü"}};
    run.log_path = "/var/lib/slipway/task-runs/1.log";
    return run;
  }

  int64_t create(const TaskRunRecord& run) {
    auto id = create_task_run(*store_, run);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  TaskRunRecord find(int64_t id) {
    auto found = find_task_run(*store_, id);
    EXPECT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found && found->has_value());
    return found && found->has_value() ? **found : TaskRunRecord{};
  }

  std::vector<int64_t> listed(const std::string& environment, const std::string& task, int limit,
                              int64_t before_id = 0) {
    auto runs = list_task_runs(*store_, environment, task, limit, before_id);
    EXPECT_TRUE(runs) << runs.error().message;
    std::vector<int64_t> ids;
    if (runs) for (const auto& run : *runs) ids.push_back(run.id);
    return ids;
  }

  std::vector<EventRecord> run_events() {
    auto listed = list_events(*store_, 0, 100);
    EXPECT_TRUE(listed) << listed.error().message;
    std::vector<EventRecord> runs;
    if (listed) for (const auto& e : *listed) if (e.kind.rfind("task.run.", 0) == 0) runs.push_back(e);
    return runs;
  }

  TemporaryDirectory directory_{"slipway-task-runs"};
  std::unique_ptr<Store> store_;
  int64_t revision_id_ = 0;
};

TEST_F(TaskRunsStoreTest, CreateStoresTheRunQueuedWithAnEvent) {
  int64_t id = create(sample());
  ASSERT_GT(id, 0);
  TaskRunRecord run = find(id);
  EXPECT_EQ(run.environment, "prod");
  EXPECT_EQ(run.task, "orders-etl");
  EXPECT_EQ(run.revision_id, revision_id_);
  EXPECT_EQ(run.revision, 1);
  EXPECT_EQ(run.trigger, "cli");
  EXPECT_EQ(run.status, TaskRunStatus::queued);
  EXPECT_EQ(run.exit_code, -1);
  EXPECT_EQ(run.env, sample().env);
  EXPECT_EQ(run.log_path, "/var/lib/slipway/task-runs/1.log");
  EXPECT_GT(run.created_ms, 1'600'000'000'000);
  EXPECT_EQ(run.started_ms, 0);
  EXPECT_EQ(run.finished_ms, 0);

  auto events = run_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "task.run.queued");
  auto payload = nlohmann::json::parse(events[0].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << events[0].payload;
  EXPECT_EQ(payload.value("task_run", int64_t{0}), id);
  EXPECT_EQ(payload.value("task", ""), "orders-etl");
  EXPECT_EQ(payload.value("environment", ""), "prod");
  EXPECT_EQ(payload.value("trigger", ""), "cli");
}

TEST_F(TaskRunsStoreTest, ARunWithoutARevisionIdIsStored) {
  TaskRunRecord run = sample("other");
  run.created_ms = 5000;
  int64_t id = create(run);
  EXPECT_EQ(find(id).revision_id, 0);
  EXPECT_EQ(find(id).created_ms, 5000);
}

TEST_F(TaskRunsStoreTest, UpdatesKeepWhatTheyLeaveEmptyAndLogTheirStatus) {
  int64_t id = create(sample());
  TaskRunUpdate running;
  running.status = TaskRunStatus::running;
  running.container = "slipway-task-prod-orders-etl-1";
  running.started_ms = 2000;
  ASSERT_TRUE(update_task_run(*store_, id, running));

  TaskRunUpdate failed;
  failed.status = TaskRunStatus::failed;
  failed.exit_code = 3;
  failed.reason = "exited with 3";
  failed.finished_ms = 5000;
  ASSERT_TRUE(update_task_run(*store_, id, failed));

  TaskRunRecord run = find(id);
  EXPECT_EQ(run.status, TaskRunStatus::failed);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.reason, "exited with 3");
  EXPECT_EQ(run.container, "slipway-task-prod-orders-etl-1");
  EXPECT_EQ(run.log_path, "/var/lib/slipway/task-runs/1.log");
  EXPECT_EQ(run.started_ms, 2000);
  EXPECT_EQ(run.finished_ms, 5000);

  auto events = run_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].kind, "task.run.running");
  EXPECT_EQ(events[2].kind, "task.run.failed");
  auto payload = nlohmann::json::parse(events[2].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << events[2].payload;
  EXPECT_EQ(payload.value("exit_code", 0), 3);
  EXPECT_EQ(payload.value("reason", ""), "exited with 3");
  EXPECT_EQ(payload.value("task", ""), "orders-etl");
}

// (An update always names its status: TaskRunUpdate's status is an enum, so "no status" cannot
// be written.)
TEST_F(TaskRunsStoreTest, UpdatingAnUnknownRunIsAnError) {
  TaskRunUpdate update;
  update.status = TaskRunStatus::running;
  Status unknown = update_task_run(*store_, 4242, update);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("4242"), std::string::npos) << unknown.error().message;
  EXPECT_TRUE(run_events().empty());

  auto missing = find_task_run(*store_, 4242);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE(create_task_run(*store_, sample("")));
}

TEST_F(TaskRunsStoreTest, ListingFiltersAndPagesNewestFirst) {
  int64_t a1 = create(sample("a"));
  int64_t b1 = create(sample("b"));
  int64_t a2 = create(sample("a"));
  int64_t staging = create(sample("a", "staging"));
  EXPECT_EQ(listed("", "", 10), (std::vector<int64_t>{staging, a2, b1, a1}));
  EXPECT_EQ(listed("prod", "a", 10), (std::vector<int64_t>{a2, a1}));
  EXPECT_EQ(listed("", "a", 10), (std::vector<int64_t>{staging, a2, a1}));
  EXPECT_EQ(listed("prod", "", 2), (std::vector<int64_t>{a2, b1}));
  EXPECT_EQ(listed("prod", "", 2, b1), (std::vector<int64_t>{a1}));
}

TEST_F(TaskRunsStoreTest, UnfinishedRunsAreTheQueuedAndRunningOnes) {
  int64_t queued = create(sample());
  int64_t running = create(sample());
  int64_t done = create(sample());
  TaskRunUpdate update;
  update.status = TaskRunStatus::running;
  ASSERT_TRUE(update_task_run(*store_, running, update));
  update.status = TaskRunStatus::succeeded;
  update.exit_code = 0;
  ASSERT_TRUE(update_task_run(*store_, done, update));

  auto unfinished = unfinished_task_runs(*store_);
  ASSERT_TRUE(unfinished) << unfinished.error().message;
  std::vector<int64_t> ids;
  for (const auto& run : *unfinished) ids.push_back(run.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{queued, running}));
}

}  // namespace
}  // namespace slipway
