// The typed vocabularies (issue 14 item 6): every value of each enum has one text and reads back
// as itself, a text no value has is refused (or, where the store reads it, falls back to the
// documented final value), JSON answers carry the text and never the number, and a status a newer
// version wrote reads as failed from the store.
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/enum_text.h"
#include "base/files.h"
#include "store/deployment_state.h"
#include "store/outbox.h"
#include "store/run_status.h"
#include "store/sqlite_database.h"
#include "store/store.h"
#include "store/task_run_status.h"
#include "store/task_runs.h"

namespace slipway {
namespace {

TEST(RunStatusText, EveryStatusReadsBackAsItself) {
  for (RunStatus status : kRunStatuses) {
    std::string text(to_text(status));
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(run_status_from_text(text), status) << text;
    EXPECT_NE(run_status_names().find(text), std::string::npos) << text;
  }
  EXPECT_EQ(to_text(RunStatus::cancelled), "cancelled");
  EXPECT_FALSE(run_status_from_text("Passed").has_value()) << "texts are exact";
  EXPECT_FALSE(run_status_from_text("").has_value());
  EXPECT_FALSE(run_status_from_text("passed ").has_value());
}

TEST(RunStatusText, OnlyQueuedAndRunningAreUnfinished) {
  for (RunStatus status : kRunStatuses) {
    bool unfinished = status == RunStatus::queued || status == RunStatus::running;
    EXPECT_EQ(is_finished(status), !unfinished) << to_text(status);
  }
}

TEST(RunStatusText, JsonAndStreamsCarryTheText) {
  nlohmann::json answer = {{"status", RunStatus::skipped}, {"task", TaskRunStatus::timed_out},
                           {"state", DeploymentState::health_checking}};
  EXPECT_EQ(answer.dump(), R"({"state":"health_checking","status":"skipped","task":"timed_out"})");
  std::ostringstream out;
  out << RunStatus::passed << " " << TaskRunStatus::interrupted << " " << DeploymentState::rolled_back;
  EXPECT_EQ(out.str(), "passed interrupted rolled_back");
}

TEST(TaskRunStatusText, EveryStatusReadsBackAsItself) {
  for (TaskRunStatus status : {TaskRunStatus::queued, TaskRunStatus::running, TaskRunStatus::succeeded,
                               TaskRunStatus::failed, TaskRunStatus::timed_out, TaskRunStatus::interrupted}) {
    EXPECT_EQ(task_run_status_from_text(to_text(status)), status) << to_text(status);
    bool unfinished = status == TaskRunStatus::queued || status == TaskRunStatus::running;
    EXPECT_EQ(is_finished(status), !unfinished) << to_text(status);
  }
  EXPECT_FALSE(task_run_status_from_text("passed").has_value()) << "a run's word, not a task run's";
}

TEST(DeploymentOutcomeText, EmptyIsActiveAndAnUnknownOutcomeIsFailed) {
  EXPECT_EQ(outcome_text(std::nullopt), "");
  EXPECT_EQ(outcome_text(DeploymentState::superseded), "superseded");
  EXPECT_EQ(deployment_outcome_from_text(""), std::nullopt);
  EXPECT_EQ(deployment_outcome_from_text("rolled_back"), DeploymentState::rolled_back);
  EXPECT_EQ(deployment_outcome_from_text("vanished"), DeploymentState::failed);
}

TEST(ContainerStateText, NoneIsEmptyAndAnUnknownStateIsRemoved) {
  for (ContainerState state : {ContainerState::none, ContainerState::running, ContainerState::stopped,
                               ContainerState::removed, ContainerState::moved}) {
    EXPECT_EQ(container_state_from_text(to_text(state)), state) << to_text(state);
  }
  EXPECT_EQ(to_text(ContainerState::none), "");
  EXPECT_EQ(container_state_from_text("paused"), ContainerState::removed);
}

TEST(OutboxStateText, EveryStateReadsBackAndAnUnknownOneIsFailed) {
  for (OutboxState state : {OutboxState::pending, OutboxState::delivered, OutboxState::failed}) {
    EXPECT_EQ(outbox_state_from_text(to_text(state)), state) << to_text(state);
  }
  EXPECT_EQ(outbox_state_from_text("sending"), OutboxState::failed);
}

enum class Colour { red, green };

TEST(EnumTextTable, ListsNamesInOrderAndParsesExactly) {
  constexpr EnumText<Colour, 2> kColours = {{{{Colour::red, "red"}, {Colour::green, "green"}}}};
  static_assert(kColours.text(Colour::green) == "green");
  static_assert(kColours.parse("red") == Colour::red);
  EXPECT_EQ(kColours.list(), "red, green");
  EXPECT_FALSE(kColours.parse("blue").has_value());
}

// What a newer version may have written: statuses this one does not know read as failed (final,
// never mistaken for success), so nothing waits on them and nothing publishes from them.
TEST(StoredStatus, AStatusANewerVersionWroteReadsAsFailed) {
  TemporaryDirectory folder("slipway-typed-states");
  auto store = Store::open(folder.path() / "slipway.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  RunRecord run;
  run.repository = "app";
  run.status = RunStatus::passed;
  auto run_id = (*store)->create_run(run);
  ASSERT_TRUE(run_id.ok()) << run_id.error().message;
  auto job_id = (*store)->create_job({0, *run_id, "test", "", RunStatus::running, "", 1, 0});
  ASSERT_TRUE(job_id.ok()) << job_id.error().message;
  TaskRunRecord task_run;
  task_run.environment = "production";
  task_run.task = "export";
  auto task_run_id = create_task_run(**store, task_run);
  ASSERT_TRUE(task_run_id.ok()) << task_run_id.error().message;
  Database& db = (*store)->database();
  ASSERT_TRUE(db.execute("UPDATE runs SET status = 'paused'; UPDATE jobs SET status = 'waiting_for_approval'; "
                         "UPDATE task_runs SET status = 'throttled'"));

  auto read_run = (*store)->find_run(*run_id);
  ASSERT_TRUE(read_run.ok() && read_run->has_value());
  EXPECT_EQ((*read_run)->status, RunStatus::failed);
  auto read_job = (*store)->find_job(*job_id);
  ASSERT_TRUE(read_job.ok() && read_job->has_value());
  EXPECT_EQ((*read_job)->status, RunStatus::failed);
  auto read_task_run = find_task_run(**store, *task_run_id);
  ASSERT_TRUE(read_task_run.ok() && read_task_run->has_value());
  EXPECT_EQ((*read_task_run)->status, TaskRunStatus::failed);
}

TEST(StoredStatus, AFilterByStatusFindsExactlyThoseRuns) {
  TemporaryDirectory folder("slipway-typed-states");
  auto store = Store::open(folder.path() / "slipway.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  for (RunStatus status : {RunStatus::passed, RunStatus::failed, RunStatus::passed, RunStatus::cancelled}) {
    RunRecord run;
    run.repository = "app";
    run.status = status;
    ASSERT_TRUE((*store)->create_run(run).ok());
  }
  EXPECT_EQ(*(*store)->count_runs({.status = RunStatus::passed}), 2);
  EXPECT_EQ(*(*store)->count_runs({.status = RunStatus::running}), 0);
  EXPECT_EQ(*(*store)->count_runs({}), 4);
  auto cancelled = (*store)->list_runs({.status = RunStatus::cancelled});
  ASSERT_TRUE(cancelled.ok());
  ASSERT_EQ(cancelled->size(), 1u);
  EXPECT_EQ(cancelled->front().status, RunStatus::cancelled);
}

}  // namespace
}  // namespace slipway
