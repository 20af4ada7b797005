// Suite results (a suite step's totals) and the failed or errored test cases behind them.
#include "store/store.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

Status insert_suite_result(Database& db, const SuiteResultRecord& result) {
  // REPLACE: a retried step records its result again; the newest one wins.
  return db.stmt("INSERT OR REPLACE INTO suite_results (step_id, run_id, suite, passed, failed, "
                 "errored, skipped, duration_ms, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(result.step_id, result.run_id, result.suite, result.passed, result.failed,
            result.errored, result.skipped, result.duration_ms, result.problems)
      .exec();
}

Status replace_failures(Database& db, int64_t step_id,
                        const std::vector<TestCaseRecord>& failures) {
  Status cleared = db.stmt("DELETE FROM test_failures WHERE step_id = ?").bind(step_id).exec();
  if (!cleared) return cleared;
  for (const TestCaseRecord& failure : failures) {
    // The failures belong to the result's step, whatever step_id the caller left in them.
    Status inserted = db.stmt("INSERT INTO test_failures (step_id, classname, name, outcome, "
                              "message, details) VALUES (?, ?, ?, ?, ?, ?)")
                          .bind(step_id, failure.classname, failure.name, failure.outcome,
                                failure.message, failure.details)
                          .exec();
    if (!inserted) return inserted;
  }
  return {};
}

}  // namespace

Status Store::record_suite_result(const SuiteResultRecord& result,
                                  const std::vector<TestCaseRecord>& failures) {
  Database& db = *impl_->database;
  Status recorded = db.transaction([&]() -> Status {
    if (Status totals = insert_suite_result(db, result); !totals) return totals;
    return replace_failures(db, result.step_id, failures);
  });
  return store_status("record_suite_result", recorded);
}

Result<std::vector<SuiteResultRecord>> Store::suite_results_of_run(int64_t run_id) {
  std::vector<SuiteResultRecord> results;
  Status read =
      impl_->database
          ->stmt("SELECT step_id, run_id, suite, passed, failed, errored, skipped, duration_ms, "
                 "problems FROM suite_results WHERE run_id = ? ORDER BY step_id")
          .bind(run_id)
          .each([&](const Row& row) {
            results.push_back(SuiteResultRecord{row.integer(0), row.integer(1), row.text(2),
                                                row.get<int>(3), row.get<int>(4), row.get<int>(5),
                                                row.get<int>(6), row.integer(7), row.text(8)});
          });
  if (!read) return store_error("suite_results_of_run", read.error().message);
  return results;
}

Result<std::vector<TestCaseRecord>> Store::failures_of_step(int64_t step_id) {
  std::vector<TestCaseRecord> failures;
  Status read = impl_->database
                    ->stmt("SELECT step_id, classname, name, outcome, message, details "
                           "FROM test_failures WHERE step_id = ? ORDER BY id")
                    .bind(step_id)
                    .each([&](const Row& row) {
                      failures.push_back(TestCaseRecord{row.integer(0), row.text(1), row.text(2),
                                                        row.text(3), row.text(4), row.text(5)});
                    });
  if (!read) return store_error("failures_of_step", read.error().message);
  return failures;
}

}  // namespace slipway
