// prune_runs against a real store and data directory: what goes (finished, old, beyond
// keep_last), what never goes (queued, running, the newest keep_last), per-repository policies,
// leftover folders, and a dry run that touches nothing.
#include "ci/run_retention.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/files.h"

namespace slipway {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNow = 1'000 * kDay;  // a fixed clock

class RunRetention : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = DataDirectory{dir_.path()};
    auto store = Store::open(data_.database());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  // A run finished `age_days` ago (or still `status`), with a log file in its folder.
  int64_t add_run(const std::string& repository, RunStatus status, int64_t age_days) {
    RunRecord run;
    run.repository = repository;
    run.status = status;
    run.created_ms = kNow - age_days * kDay - 1000;
    run.finished_ms = is_finished(status) ? kNow - age_days * kDay : 0;
    auto id = store_->create_run(run);
    EXPECT_TRUE(id) << id.error().message;
    std::filesystem::create_directories(data_.run_dir(*id) / "logs" / "test" / "01-unit");
    std::ofstream(data_.run_dir(*id) / "logs" / "test" / "01-unit" / "000001.log") << std::string(100, 'x');
    return *id;
  }

  bool has_record(int64_t id) { return store_->find_run(id)->has_value(); }

  ServerConfig config(Milliseconds max_age, int keep_last) {
    ServerConfig config;
    config.retention = {max_age, keep_last};
    return config;
  }

  TemporaryDirectory dir_;
  DataDirectory data_;
  std::unique_ptr<Store> store_;
};

TEST_F(RunRetention, RemovesOldFinishedRunsBeyondKeepLastWithTheirFiles) {
  int64_t oldest = add_run("app", RunStatus::passed, 100);
  int64_t old_failed = add_run("app", RunStatus::failed, 95);
  int64_t recent = add_run("app", RunStatus::passed, 10);
  int64_t newest = add_run("app", RunStatus::cancelled, 91);  // old, but among the newest 1
  auto report = prune_runs(*store_, data_, config(Milliseconds(90 * kDay), 1), {false, kNow});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->runs.size(), 2u);
  EXPECT_EQ(report->runs[0].run.id, oldest);
  EXPECT_EQ(report->runs[1].run.id, old_failed);
  EXPECT_EQ(report->runs[0].bytes, 100u);
  EXPECT_EQ(report->bytes, 200u);
  EXPECT_FALSE(has_record(oldest));
  EXPECT_FALSE(has_record(old_failed));
  EXPECT_FALSE(std::filesystem::exists(data_.run_dir(oldest)));
  EXPECT_TRUE(has_record(recent));
  EXPECT_TRUE(has_record(newest));
  EXPECT_TRUE(std::filesystem::exists(data_.run_dir(recent)));
}

TEST_F(RunRetention, NeverRemovesQueuedOrRunningRunsNorTheNewestKeepLast) {
  int64_t running = add_run("app", RunStatus::running, 400);
  int64_t queued = add_run("app", RunStatus::queued, 300);
  int64_t kept = add_run("app", RunStatus::passed, 200);
  auto report = prune_runs(*store_, data_, config(Milliseconds(0), 1), {false, kNow});
  ASSERT_TRUE(report) << report.error().message;
  // keep_last 1 protects `kept`, the newest; the older ones are unfinished.
  EXPECT_TRUE(report->runs.empty());
  EXPECT_TRUE(has_record(running));
  EXPECT_TRUE(has_record(queued));
  EXPECT_TRUE(has_record(kept));
  EXPECT_TRUE(std::filesystem::exists(data_.run_dir(running)));
}

TEST_F(RunRetention, KeepLastCountsPerRepositoryAndRepositoriesHaveTheirOwnPolicy) {
  ServerConfig policy = config(Milliseconds(0), 1);
  RepositoryConfig precious_config;
  precious_config.name = "precious";
  precious_config.retention = RetentionConfig{Milliseconds(0), 3};
  policy.repositories.push_back(precious_config);
  std::vector<int64_t> app, precious;
  for (int i = 0; i < 3; ++i) app.push_back(add_run("app", RunStatus::passed, 5 - i));
  for (int i = 0; i < 4; ++i) precious.push_back(add_run("precious", RunStatus::passed, 5 - i));
  auto report = prune_runs(*store_, data_, policy, {false, kNow});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(has_record(app[0]));
  EXPECT_FALSE(has_record(app[1]));
  EXPECT_TRUE(has_record(app[2]));
  EXPECT_FALSE(has_record(precious[0]));
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(has_record(precious[i]));
  EXPECT_EQ(report->runs.size(), 3u);
}

TEST_F(RunRetention, DryRunRemovesNothing) {
  int64_t old = add_run("app", RunStatus::passed, 100);
  add_run("app", RunStatus::passed, 1);
  std::filesystem::create_directories(data_.root / "runs" / "9999");
  auto report = prune_runs(*store_, data_, config(Milliseconds(90 * kDay), 1), {true, kNow});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->runs.size(), 1u);
  EXPECT_EQ(report->runs[0].run.id, old);
  ASSERT_EQ(report->leftovers.size(), 1u);
  EXPECT_TRUE(has_record(old));
  EXPECT_TRUE(std::filesystem::exists(data_.run_dir(old)));
  EXPECT_TRUE(std::filesystem::exists(data_.root / "runs" / "9999"));
}

TEST_F(RunRetention, RemovesLeftoverFoldersWithoutARecordAndLeavesOtherFilesAlone) {
  int64_t live = add_run("app", RunStatus::running, 0);
  std::filesystem::create_directories(data_.root / "runs" / "4242" / "workspace");
  std::filesystem::create_directories(data_.root / "runs" / "not-a-run");
  auto report = prune_runs(*store_, data_, config(Milliseconds(90 * kDay), 200), {false, kNow});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->leftovers.size(), 1u);
  EXPECT_EQ(report->leftovers[0].filename(), "4242");
  EXPECT_FALSE(std::filesystem::exists(data_.root / "runs" / "4242"));
  EXPECT_TRUE(std::filesystem::exists(data_.root / "runs" / "not-a-run"));
  EXPECT_TRUE(std::filesystem::exists(data_.run_dir(live)));
}

TEST_F(RunRetention, PagesThroughManyExpiredRuns) {
  for (int i = 0; i < 1203; ++i) {
    RunRecord run;
    run.repository = "busy";
    run.status = RunStatus::passed;
    run.created_ms = 1;
    run.finished_ms = 2;
    ASSERT_TRUE(store_->create_run(run));
  }
  auto dry = prune_runs(*store_, data_, config(Milliseconds(kDay), 3), {true, kNow});
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->runs.size(), 1200u);
  auto report = prune_runs(*store_, data_, config(Milliseconds(kDay), 3), {false, kNow});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->runs.size(), 1200u);
  EXPECT_EQ(*store_->count_runs(RunFilter{.repository = "busy"}), 3);
}

}  // namespace
}  // namespace slipway
