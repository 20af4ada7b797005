// Store: Slipway's state in one SQLite file (WAL mode), schema brought up to date by numbered,
// forward-only migrations on open. Typed records in, typed records out; every failure is an
// Error naming the operation. One Store object per thread; SQLite serialises writers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/run_status.h"

namespace slipway {

class Database;  // store/sqlite_database.h

// Runs, jobs and steps share one vocabulary of statuses, RunStatus (store/run_status.h); a
// status stored by a newer version that this one does not know reads as failed.

// The pull (or merge) request a run tests, as the forge described it. number 0: none.
struct PullRequestInfo {
  int64_t number = 0;
  std::string title;
  std::string author;             // the forge's login
  std::string source;             // the head branch, e.g. "feature/login"
  std::string source_repository;  // "someone/app" (a fork's) or the repository's own
  std::string target;             // the base branch, e.g. "main"
  bool fork = false;              // from another repository: no secrets, never publishes
  std::string url;                // the pull request's page on the forge
};

struct RunRecord {
  int64_t id = 0;
  std::string repository;     // name (for `slipway run`, the folder name)
  std::string source;         // where it came from: a path or URL
  std::string commit;         // full sha
  std::string branch;         // may be empty
  std::string trigger;        // "local", "push", "manual", "schedule"
  RunStatus status = RunStatus::queued;
  std::string reason;         // why it failed/was cancelled, or why it waits
  int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  std::string report_dir;     // folder holding report.json and report.html
  std::string environments;   // manual runs: environments to publish to, comma-separated
  PullRequestInfo pull_request;  // trigger "pull_request" only
};

struct JobRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string name;           // "test", "publish:staging"
  std::string environment;
  RunStatus status = RunStatus::queued;
  std::string reason;
  int64_t started_ms = 0, finished_ms = 0;
};

struct StepRecord {
  int64_t id = 0;
  int64_t job_id = 0;
  int position = 0;           // order within the job
  std::string name;
  std::string kind;           // "setup", "service", "suite", "publish"
  std::string command;
  RunStatus status = RunStatus::queued;
  int exit_code = -1;
  std::string reason;
  std::string log_dir;
  int64_t started_ms = 0, finished_ms = 0;
};

struct SuiteResultRecord {    // one per suite step: the report's totals
  int64_t step_id = 0;
  int64_t run_id = 0;
  std::string suite;
  int passed = 0, failed = 0, errored = 0, skipped = 0;
  int64_t duration_ms = 0;
  std::string problems;       // newline-separated
};

struct TestCaseRecord {       // failed and errored cases only: what a failure view needs
  int64_t step_id = 0;
  std::string classname, name, outcome, message, details;
};

struct RunFilter {
  std::string repository;     // empty: any
  std::optional<RunStatus> status;  // nullopt: any
  int64_t before_id = 0;      // paging: only runs with id < before_id (0: from the newest)
  int limit = 50;
  int64_t pull_request = 0;   // 0: any; else only that pull request's runs
  std::string branch;         // empty: any
};

class Store {
 public:
  // Opens or creates the file, enables WAL and foreign keys, runs pending migrations.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& database_file);
  ~Store();

  int schema_version() const;

  Result<int64_t> create_run(const RunRecord& run);       // returns the new id; created_ms 0: now
  Status update_run(const RunRecord& run);                // by id: status, reason, times, report_dir
  Result<std::optional<RunRecord>> find_run(int64_t id);
  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter);
  // Runs matching the filter's repository and status (before_id and limit are ignored).
  Result<int64_t> count_runs(const RunFilter& filter);
  // Deletes the run with its jobs, steps, suite results and failures; no error if absent.
  Status delete_run(int64_t id);

  Result<int64_t> create_job(const JobRecord& job);
  Status update_job(const JobRecord& job);
  Result<std::vector<JobRecord>> jobs_of_run(int64_t run_id);
  Result<std::optional<JobRecord>> find_job(int64_t id);

  Result<int64_t> create_step(const StepRecord& step);
  Status update_step(const StepRecord& step);
  Result<std::vector<StepRecord>> steps_of_job(int64_t job_id);   // by position
  Result<std::optional<StepRecord>> find_step(int64_t id);

  // Totals and failures in one transaction; recording a step again replaces its earlier result.
  Status record_suite_result(const SuiteResultRecord& result,
                             const std::vector<TestCaseRecord>& failures);
  Result<std::vector<SuiteResultRecord>> suite_results_of_run(int64_t run_id);
  Result<std::vector<TestCaseRecord>> failures_of_step(int64_t step_id);

  // The connection, for the store layer's own query files (api_tokens.cpp, events.cpp...):
  // each table's queries live beside the others in src/store/, never in a higher layer.
  Database& database();

  struct Impl;
 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
