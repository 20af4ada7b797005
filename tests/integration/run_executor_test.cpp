// RunExecutor, for real: a git repository in a temporary folder, the host executor, a store on
// disk. Each way a run can end early (a bad spec, a checkout that fails, secrets that cannot be
// read, a cancel before the start) is recorded with its reason and its run.finished event, and
// leaves no workspace behind; a run that goes through every phase records its test job and
// report.
#include "ci/run_executor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/events.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::ScratchRepository;

class RunExecutorTest : public ::testing::Test {
 protected:
  RunExecutorTest() : data_("slipway-executor-data") {
    auto opened = Store::open(DataDirectory{data_.path()}.database());
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
    if (opened) store_ = std::move(*opened);
    executor_ = make_host_executor();
  }

  RunRecord recorded_run(const std::string& commit) {
    RunRecord run;
    run.repository = "app";
    run.source = repository_.path().string();
    run.commit = commit;
    run.branch = "main";
    run.trigger = "manual";
    run.status = RunStatus::queued;
    auto id = store_->create_run(run);
    EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
    run.id = id.ok() ? *id : 0;
    return run;
  }

  // Executes and drops the outcome (as the queue does once it has recorded the end), then
  // returns the run as stored.
  RunRecord execute(RunRecord run, const RunSettings& settings, const std::atomic<bool>* cancel = nullptr) {
    RunExecutor executor(DataDirectory{data_.path()}, *store_, *executor_);
    {
      auto outcome = executor.execute(run, nullptr, cancel, settings);
      EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
      if (outcome) {
        EXPECT_EQ(outcome->run.status, run.status);
      }
    }
    auto stored = store_->find_run(run.id);
    EXPECT_TRUE(stored.ok() && stored->has_value());
    return stored.ok() && *stored ? **stored : RunRecord{};
  }

  // The run.finished events recorded for the run, as their payloads.
  std::vector<nlohmann::json> finished_events(int64_t run_id) {
    std::vector<nlohmann::json> payloads;
    auto events = list_events(*store_, 0, 1000);
    EXPECT_TRUE(events.ok());
    if (!events) return payloads;
    for (const EventRecord& event : *events) {
      if (event.run_id == run_id && event.kind == "run.finished") payloads.push_back(nlohmann::json::parse(event.payload));
    }
    return payloads;
  }

  fs::path workspace(int64_t run_id) const { return DataDirectory{data_.path()}.run_dir(run_id) / "workspace"; }

  ScratchRepository repository_;
  TemporaryDirectory data_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Executor> executor_;
};

TEST_F(RunExecutorTest, APassingRunGoesThroughEveryPhaseAndRecordsItsEndWithItsEvent) {
  repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  RunRecord run = execute(recorded_run(repository_.commit()), RunSettings{});
  EXPECT_EQ(run.status, RunStatus::passed) << run.reason;
  EXPECT_GT(run.finished_ms, 0);
  EXPECT_TRUE(fs::exists(fs::path(run.report_dir) / "report.json"));
  auto jobs = store_->jobs_of_run(run.id);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].status, RunStatus::passed);
  auto events = finished_events(run.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["status"], "passed");
  EXPECT_EQ(events[0]["commit"], run.commit);
  EXPECT_FALSE(fs::exists(workspace(run.id)));
}

TEST_F(RunExecutorTest, SecretsThatCannotBeReadFailTheRunAndLeaveNoWorkspace) {
  repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  RunSettings settings;
  settings.secrets_for = [](const std::string& environment) -> Result<std::map<std::string, std::string>> {
    return make_error("the secret store is locked (" + environment + ")");
  };
  RunRecord run = execute(recorded_run(repository_.commit()), settings);
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_EQ(run.reason, "cannot read the test job's secrets: the secret store is locked (test)");
  auto events = finished_events(run.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["status"], "failed");
  EXPECT_FALSE(fs::exists(workspace(run.id)));
}

TEST_F(RunExecutorTest, AnInvalidSpecFailsTheRunAtItsLineAndLeavesNoWorkspace) {
  repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { runs: \"true\" }\n");
  RunRecord run = execute(recorded_run(repository_.commit()), RunSettings{});
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_EQ(run.reason.rfind("invalid .slipway.yml: .slipway.yml:4:", 0), 0u) << run.reason;
  EXPECT_EQ(finished_events(run.id).size(), 1u);
  EXPECT_FALSE(fs::exists(workspace(run.id)));
}

TEST_F(RunExecutorTest, ACommitThatIsNotThereFailsTheCheckoutAndLeavesNoWorkspace) {
  repository_.write("README", "x");
  repository_.commit();
  RunRecord run = execute(recorded_run(std::string(40, 'a')), RunSettings{});
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_NE(run.reason.find("aaaaaaaaaaaa"), std::string::npos) << run.reason;
  EXPECT_EQ(finished_events(run.id).size(), 1u);
  EXPECT_FALSE(fs::exists(workspace(run.id)));
}

TEST_F(RunExecutorTest, ARunCancelledBeforeItStartsSaysWhyAndCarriesTheNote) {
  repository_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  RunSettings settings;
  settings.cancel_reason = [] { return std::string("superseded by run #9"); };
  settings.note = "no secrets: a fork";
  std::atomic<bool> cancel{true};
  RunRecord run = execute(recorded_run(repository_.commit()), settings, &cancel);
  EXPECT_EQ(run.status, RunStatus::cancelled);
  EXPECT_EQ(run.reason, "superseded by run #9 (no secrets: a fork)");
  auto events = finished_events(run.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["reason"], "superseded by run #9 (no secrets: a fork)");
  EXPECT_FALSE(fs::exists(workspace(run.id)));
}

}  // namespace
}  // namespace slipway
