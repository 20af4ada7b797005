// The Store on a real SQLite file in a temporary directory: round trips of every record type,
// listing and paging, migrations, WAL, refusal of foreign or newer files, cascades, and two
// writers on one file.
#include "store/store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

RunRecord sample_run(std::string repository = "shop", RunStatus status = RunStatus::queued) {
  RunRecord run;
  run.repository = std::move(repository);
  run.source = "/src/shop";
  run.commit = "0123456789abcdef0123456789abcdef01234567";
  run.branch = "main";
  run.trigger = "local";
  run.status = status;
  run.created_ms = 1'700'000'000'000;
  return run;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = open_store(); }

  std::unique_ptr<Store> open_store() {
    auto opened = Store::open(file_);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  int64_t add_run(const RunRecord& run) {
    auto id = store_->create_run(run);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  int64_t add_job(int64_t run_id, std::string name) {
    JobRecord job;
    job.run_id = run_id;
    job.name = std::move(name);
    auto id = store_->create_job(job);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  int64_t add_step(int64_t job_id, int position, std::string name) {
    StepRecord step;
    step.job_id = job_id;
    step.position = position;
    step.name = std::move(name);
    step.kind = "suite";
    auto id = store_->create_step(step);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  std::vector<int64_t> listed_ids(const RunFilter& filter) {
    auto runs = store_->list_runs(filter);
    EXPECT_TRUE(runs) << runs.error().message;
    std::vector<int64_t> ids;
    if (runs) for (const RunRecord& run : *runs) ids.push_back(run.id);
    return ids;
  }

  TemporaryDirectory directory_{"slipway-store-test"};
  fs::path file_ = directory_.path() / "state" / "nested" / "slipway.db";
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, OpenCreatesParentDirectoriesAndAppliesMigrations) {
  ASSERT_TRUE(store_);
  EXPECT_TRUE(fs::exists(file_));
  EXPECT_EQ(store_->schema_version(), latest_schema_version());
  EXPECT_GE(store_->schema_version(), 1);
}

TEST_F(StoreTest, RunRoundTrip) {
  RunRecord run = sample_run();
  run.reason = "waiting for a runner";
  run.report_dir = "/var/slipway/runs/1";
  int64_t id = add_run(run);
  ASSERT_GT(id, 0);

  auto found = store_->find_run(id);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const RunRecord& got = **found;
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.repository, run.repository);
  EXPECT_EQ(got.source, run.source);
  EXPECT_EQ(got.commit, run.commit);
  EXPECT_EQ(got.branch, run.branch);
  EXPECT_EQ(got.trigger, run.trigger);
  EXPECT_EQ(got.status, RunStatus::queued);
  EXPECT_EQ(got.reason, run.reason);
  EXPECT_EQ(got.created_ms, run.created_ms);
  EXPECT_EQ(got.started_ms, 0);
  EXPECT_EQ(got.finished_ms, 0);
  EXPECT_EQ(got.report_dir, run.report_dir);

  RunRecord updated = got;
  updated.status = RunStatus::failed;
  updated.reason = "test job failed";
  updated.started_ms = 1'700'000'000'100;
  updated.finished_ms = 1'700'000'000'900;
  updated.report_dir = "/reports/1";
  ASSERT_TRUE(store_->update_run(updated));
  auto again = store_->find_run(id);
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->status, RunStatus::failed);
  EXPECT_EQ((*again)->reason, "test job failed");
  EXPECT_EQ((*again)->started_ms, updated.started_ms);
  EXPECT_EQ((*again)->finished_ms, updated.finished_ms);
  EXPECT_EQ((*again)->report_dir, "/reports/1");
}

TEST_F(StoreTest, CreateRunDefaultsCreatedTimeToNow) {
  RunRecord run = sample_run();
  run.created_ms = 0;
  auto found = store_->find_run(add_run(run));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_GT((*found)->created_ms, 1'600'000'000'000);
}

TEST_F(StoreTest, FindMissingRunIsEmptyNotAnError) {
  auto found = store_->find_run(4242);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

TEST_F(StoreTest, UpdatingAMissingRecordIsAnError) {
  RunRecord run = sample_run();
  run.id = 999;
  Status status = store_->update_run(run);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "store: update_run: no run with id 999");
  JobRecord job;
  job.id = 999;
  EXPECT_FALSE(store_->update_job(job));
  StepRecord step;
  step.id = 999;
  EXPECT_FALSE(store_->update_step(step));
}

TEST_F(StoreTest, JobRoundTripInCreationOrder) {
  int64_t run_id = add_run(sample_run());
  int64_t test_job = add_job(run_id, "test");
  JobRecord publish;
  publish.run_id = run_id;
  publish.name = "publish:staging";
  publish.environment = "staging";
  publish.status = RunStatus::skipped;
  publish.reason = "test failed";
  auto publish_id = store_->create_job(publish);
  ASSERT_TRUE(publish_id) << publish_id.error().message;

  auto jobs = store_->jobs_of_run(run_id);
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id, test_job);
  EXPECT_EQ((*jobs)[0].name, "test");
  EXPECT_EQ((*jobs)[0].status, RunStatus::queued);
  EXPECT_EQ((*jobs)[1].id, *publish_id);
  EXPECT_EQ((*jobs)[1].run_id, run_id);
  EXPECT_EQ((*jobs)[1].environment, "staging");
  EXPECT_EQ((*jobs)[1].status, RunStatus::skipped);
  EXPECT_EQ((*jobs)[1].reason, "test failed");

  JobRecord running = (*jobs)[0];
  running.status = RunStatus::running;
  running.started_ms = 10;
  running.finished_ms = 20;
  running.reason = "because";
  ASSERT_TRUE(store_->update_job(running));
  auto found = store_->find_job(test_job);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->status, RunStatus::running);
  EXPECT_EQ((*found)->started_ms, 10);
  EXPECT_EQ((*found)->finished_ms, 20);
  EXPECT_EQ((*found)->reason, "because");
}

TEST_F(StoreTest, StepRoundTripOrderedByPosition) {
  int64_t job_id = add_job(add_run(sample_run()), "test");
  StepRecord setup;
  setup.job_id = job_id;
  setup.position = 0;
  setup.name = "install";
  setup.kind = "setup";
  setup.command = "npm ci";
  setup.log_dir = "/logs/1";
  int64_t second = add_step(job_id, 1, "unit");
  auto first = store_->create_step(setup);
  ASSERT_TRUE(first) << first.error().message;

  auto steps = store_->steps_of_job(job_id);
  ASSERT_TRUE(steps) << steps.error().message;
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].id, *first);
  EXPECT_EQ((*steps)[0].kind, "setup");
  EXPECT_EQ((*steps)[0].command, "npm ci");
  EXPECT_EQ((*steps)[0].log_dir, "/logs/1");
  EXPECT_EQ((*steps)[0].exit_code, -1);
  EXPECT_EQ((*steps)[1].id, second);
  EXPECT_EQ((*steps)[1].position, 1);

  StepRecord done = (*steps)[1];
  done.status = RunStatus::failed;
  done.exit_code = 3;
  done.reason = "exit code 3";
  done.log_dir = "/logs/2";
  done.started_ms = 100;
  done.finished_ms = 200;
  ASSERT_TRUE(store_->update_step(done));
  auto found = store_->find_step(second);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->status, RunStatus::failed);
  EXPECT_EQ((*found)->exit_code, 3);
  EXPECT_EQ((*found)->reason, "exit code 3");
  EXPECT_EQ((*found)->log_dir, "/logs/2");
  EXPECT_EQ((*found)->started_ms, 100);
  EXPECT_EQ((*found)->finished_ms, 200);
  EXPECT_EQ((*found)->job_id, job_id);
}

TEST_F(StoreTest, ChildOfAMissingParentIsRefused) {
  JobRecord orphan;
  orphan.run_id = 12345;
  orphan.name = "test";
  auto id = store_->create_job(orphan);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().message, "store: create_job: FOREIGN KEY constraint failed");
}

TEST_F(StoreTest, SuiteResultWithFailuresRoundTrip) {
  int64_t run_id = add_run(sample_run());
  int64_t job_id = add_job(run_id, "test");
  int64_t unit = add_step(job_id, 0, "unit");
  int64_t integration = add_step(job_id, 1, "integration");

  SuiteResultRecord result{unit, run_id, "unit", 40, 2, 1, 3, 1234, "report.xml: 1 bad case\nx"};
  std::vector<TestCaseRecord> failures = {
      {0, "cart.CartTest", "adds_item", "failed", "expected 2, got 3", "at cart.cpp:10"},
      {0, "cart.CartTest", "removes_item", "errored", "segfault", ""},
  };
  ASSERT_TRUE(store_->record_suite_result(result, failures));
  ASSERT_TRUE(store_->record_suite_result({integration, run_id, "integration", 5}, {}));

  auto results = store_->suite_results_of_run(run_id);
  ASSERT_TRUE(results) << results.error().message;
  ASSERT_EQ(results->size(), 2u);
  const SuiteResultRecord& got = (*results)[0];
  EXPECT_EQ(got.step_id, unit);
  EXPECT_EQ(got.run_id, run_id);
  EXPECT_EQ(got.suite, "unit");
  EXPECT_EQ(got.passed, 40);
  EXPECT_EQ(got.failed, 2);
  EXPECT_EQ(got.errored, 1);
  EXPECT_EQ(got.skipped, 3);
  EXPECT_EQ(got.duration_ms, 1234);
  EXPECT_EQ(got.problems, "report.xml: 1 bad case\nx");
  EXPECT_EQ((*results)[1].suite, "integration");
  EXPECT_EQ((*results)[1].passed, 5);

  auto stored = store_->failures_of_step(unit);
  ASSERT_TRUE(stored) << stored.error().message;
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].step_id, unit);
  EXPECT_EQ((*stored)[0].classname, "cart.CartTest");
  EXPECT_EQ((*stored)[0].name, "adds_item");
  EXPECT_EQ((*stored)[0].outcome, "failed");
  EXPECT_EQ((*stored)[0].message, "expected 2, got 3");
  EXPECT_EQ((*stored)[0].details, "at cart.cpp:10");
  EXPECT_EQ((*stored)[1].name, "removes_item");
  EXPECT_EQ((*stored)[1].outcome, "errored");
  auto none = store_->failures_of_step(integration);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, RecordingASuiteAgainReplacesItsResult) {
  int64_t run_id = add_run(sample_run());
  int64_t step = add_step(add_job(run_id, "test"), 0, "unit");
  ASSERT_TRUE(store_->record_suite_result({step, run_id, "unit", 1, 1},
                                          {{step, "A", "a", "failed", "", ""}}));
  ASSERT_TRUE(store_->record_suite_result({step, run_id, "unit", 2, 0}, {}));
  auto results = store_->suite_results_of_run(run_id);
  ASSERT_TRUE(results);
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].passed, 2);
  auto failures = store_->failures_of_step(step);
  ASSERT_TRUE(failures);
  EXPECT_TRUE(failures->empty());
}

TEST_F(StoreTest, SuiteResultIsAllOrNothing) {
  int64_t run_id = add_run(sample_run());
  // A result for a step that does not exist: the totals insert fails, so no failure rows may
  // be left behind either.
  Status status =
      store_->record_suite_result({777, run_id, "ghost", 0, 1}, {{777, "G", "g", "failed"}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message.rfind("store: record_suite_result: ", 0), 0u)
      << status.error().message;
  auto failures = store_->failures_of_step(777);
  ASSERT_TRUE(failures);
  EXPECT_TRUE(failures->empty());
  auto results = store_->suite_results_of_run(run_id);
  ASSERT_TRUE(results);
  EXPECT_TRUE(results->empty());
}

TEST_F(StoreTest, ListRunsNewestFirstWithFilters) {
  int64_t a1 = add_run(sample_run("alpha", RunStatus::passed));
  int64_t b1 = add_run(sample_run("beta", RunStatus::failed));
  int64_t a2 = add_run(sample_run("alpha", RunStatus::failed));
  int64_t a3 = add_run(sample_run("alpha", RunStatus::passed));

  EXPECT_EQ(listed_ids({}), (std::vector<int64_t>{a3, a2, b1, a1}));
  EXPECT_EQ(listed_ids({.repository = "alpha"}), (std::vector<int64_t>{a3, a2, a1}));
  EXPECT_EQ(listed_ids({.status = RunStatus::failed}), (std::vector<int64_t>{a2, b1}));
  EXPECT_EQ(listed_ids({.repository = "alpha", .status = RunStatus::passed}),
            (std::vector<int64_t>{a3, a1}));
  EXPECT_EQ(listed_ids({.repository = "gamma"}), std::vector<int64_t>{});

  auto all = store_->count_runs({});
  auto alpha_failed =
      store_->count_runs({.repository = "alpha", .status = RunStatus::failed, .before_id = 1});
  ASSERT_TRUE(all && alpha_failed);
  EXPECT_EQ(*all, 4);
  EXPECT_EQ(*alpha_failed, 1);  // before_id is ignored by count
}

TEST_F(StoreTest, ListRunsKeysetPaging) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(add_run(sample_run(i % 2 ? "odd" : "even")));
  std::vector<int64_t> seen;
  RunFilter filter{.limit = 10};
  for (;;) {
    std::vector<int64_t> page = listed_ids(filter);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 10u);
    seen.insert(seen.end(), page.begin(), page.end());
    filter.before_id = page.back();
  }
  std::vector<int64_t> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);

  // Paging composes with a filter.
  std::vector<int64_t> odd = listed_ids({.repository = "odd", .before_id = ids[10], .limit = 3});
  EXPECT_EQ(odd, (std::vector<int64_t>{ids[9], ids[7], ids[5]}));
}

TEST_F(StoreTest, ListRunsClampsTheLimit) {
  for (int i = 0; i < 1005; ++i) add_run(sample_run());
  EXPECT_EQ(listed_ids({.limit = 0}).size(), 1u);
  EXPECT_EQ(listed_ids({.limit = -5}).size(), 1u);
  EXPECT_EQ(listed_ids({.limit = 5000}).size(), 1000u);
}

TEST_F(StoreTest, QuotesInNamesAreStoredAsData) {
  const std::string hostile = "o'brien'; DROP TABLE runs; --";
  int64_t id = add_run(sample_run(hostile));
  auto found = store_->find_run(id);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->repository, hostile);
  EXPECT_EQ(listed_ids({.repository = hostile}), std::vector<int64_t>{id});
  auto count = store_->count_runs({});
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

TEST_F(StoreTest, DeletingARunCascadesToEverythingUnderIt) {
  int64_t keep = add_run(sample_run("keep"));
  int64_t keep_step = add_step(add_job(keep, "test"), 0, "unit");
  int64_t run_id = add_run(sample_run());
  int64_t job_id = add_job(run_id, "test");
  int64_t step_id = add_step(job_id, 0, "unit");
  ASSERT_TRUE(store_->record_suite_result({step_id, run_id, "unit", 0, 1},
                                          {{step_id, "C", "c", "failed", "", ""}}));

  ASSERT_TRUE(store_->delete_run(run_id));
  auto run = store_->find_run(run_id);
  auto jobs = store_->jobs_of_run(run_id);
  auto steps = store_->steps_of_job(job_id);
  auto results = store_->suite_results_of_run(run_id);
  auto failures = store_->failures_of_step(step_id);
  ASSERT_TRUE(run && jobs && steps && results && failures);
  EXPECT_FALSE(run->has_value());
  EXPECT_TRUE(jobs->empty());
  EXPECT_TRUE(steps->empty());
  EXPECT_TRUE(results->empty());
  EXPECT_TRUE(failures->empty());

  auto kept = store_->find_step(keep_step);
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->has_value());
}

TEST_F(StoreTest, RunIdsAreNotReusedAfterDeletion) {
  int64_t first = add_run(sample_run());
  ASSERT_TRUE(store_->delete_run(first));
  EXPECT_GT(add_run(sample_run()), first);
}

TEST_F(StoreTest, ReopeningKeepsDataAndDoesNotRerunMigrations) {
  int64_t id = add_run(sample_run());
  int version = store_->schema_version();
  store_.reset();
  store_ = open_store();
  ASSERT_TRUE(store_);
  EXPECT_EQ(store_->schema_version(), version);
  auto found = store_->find_run(id);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->commit, sample_run().commit);
}

TEST_F(StoreTest, JournalModeIsWal) {
  store_.reset();
  auto db = Database::open(file_, 1000);
  ASSERT_TRUE(db) << db.error().message;
  std::string mode;
  ASSERT_TRUE((*db)->stmt("PRAGMA journal_mode").fetch<std::string>([&](std::string m) {
    mode = m;
  }));
  EXPECT_EQ(mode, "wal");  // WAL is a property of the file, so a plain connection sees it
  int version = 0;
  ASSERT_TRUE((*db)->stmt("PRAGMA user_version").fetch<int>([&](int v) { version = v; }));
  EXPECT_EQ(version, latest_schema_version());
}

TEST_F(StoreTest, NewerSchemaIsRefused) {
  store_.reset();
  {
    auto db = Database::open(file_, 1000);
    ASSERT_TRUE(db);
    int newer = latest_schema_version() + 1;
    ASSERT_TRUE((*db)->execute("PRAGMA user_version = " + std::to_string(newer)));
  }
  auto opened = Store::open(file_);
  ASSERT_FALSE(opened);
  const std::string& message = opened.error().message;
  EXPECT_EQ(message.rfind("store: open " + file_.string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("written by a newer Slipway"), std::string::npos) << message;
}

TEST_F(StoreTest, RandomBytesAreAClearErrorNotACrash) {
  fs::path junk = directory_.path() / "junk.db";
  {
    std::mt19937 random(42);
    std::ofstream out(junk, std::ios::binary);
    for (int i = 0; i < 8192; ++i) out.put(static_cast<char>(random() & 0xff));
  }
  auto opened = Store::open(junk);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message, "store: open " + junk.string() + ": file is not a database");
}

TEST_F(StoreTest, UnwritableLocationIsAClearError) {
  fs::path blocker = directory_.path() / "a-file";
  std::ofstream(blocker) << "not a directory";
  auto opened = Store::open(blocker / "slipway.db");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message.rfind("store: open ", 0), 0u) << opened.error().message;
}

TEST_F(StoreTest, TwoWritersOnOneFileLoseNothing) {
  store_.reset();
  fs::path shared = directory_.path() / "shared.db";
  constexpr int kRunsPerWriter = 500;
  auto writer = [&](std::string repository, std::vector<std::string>* errors) {
    auto store = Store::open(shared);  // both threads open (and migrate) concurrently
    if (!store) {
      errors->push_back(store.error().message);
      return;
    }
    for (int i = 0; i < kRunsPerWriter; ++i) {
      auto id = (*store)->create_run(sample_run(repository));
      if (!id) errors->push_back(id.error().message);
    }
  };
  std::vector<std::string> errors_a, errors_b;
  std::thread a(writer, "a", &errors_a);
  std::thread b(writer, "b", &errors_b);
  a.join();
  b.join();
  EXPECT_TRUE(errors_a.empty()) << errors_a.front();
  EXPECT_TRUE(errors_b.empty()) << errors_b.front();

  auto store = Store::open(shared);
  ASSERT_TRUE(store) << store.error().message;
  auto total = (*store)->count_runs({});
  auto from_a = (*store)->count_runs({.repository = "a"});
  ASSERT_TRUE(total && from_a);
  EXPECT_EQ(*total, 2 * kRunsPerWriter);
  EXPECT_EQ(*from_a, kRunsPerWriter);
  auto all = (*store)->list_runs({.limit = 1000});
  ASSERT_TRUE(all);
  std::set<int64_t> ids;
  for (const RunRecord& run : *all) ids.insert(run.id);
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace slipway
