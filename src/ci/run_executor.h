// RunExecutor: one commit's run, end to end, as `slipway run` and the server both do it:
// resolve the commit, record the run, check it out in a fresh workspace, read and validate its
// .slipway.yml, run the test job, save the report (JSON and HTML) and record every step's
// result; then, when the test job passed and the plan holds any, one publish job per
// environment (each independent of the others) and the artifacts they verified. Whatever goes
// wrong — a bad spec, a failed checkout, a failed suite — the run's result and reason are
// recorded; the Error return is kept for when even that was impossible (the store failed).
//
// Two halves, because the server records a run long before it executes it (it waits in the
// queue): create_run() names the commit and records the run; execute() does the rest.
// `slipway run` calls run(), which is both. execute() goes through four phases, each a
// function of its own: prepare (start, checkout, read the spec, plan), test (the test job and
// its report), publish (the publish stage) and conclude (the run's end and its event, in one
// transaction).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "ci/executor.h"
#include "ci/publish_job.h"
#include "ci/test_job.h"
#include "ci/workspace_guard.h"
#include "ci/workspace_template.h"
#include "spec/job_plan.h"
#include "store/store.h"

namespace slipway {

// Where a machine keeps its runs: slipway.db, and runs/<id>/{workspace,logs,report.*}.
struct DataDirectory {
  std::filesystem::path root;
  std::filesystem::path database() const { return root / "slipway.db"; }
  std::filesystem::path run_dir(int64_t run_id) const { return root / "runs" / std::to_string(run_id); }
  // Each worker's checked-out trees, one per repository (ci/workspace_template.h).
  std::filesystem::path templates(int worker) const { return root / "templates" / ("worker-" + std::to_string(worker)); }
};

struct LocalRunRequest {
  std::filesystem::path repository;        // a git work tree or bare repository
  std::string revision = "HEAD";
  std::string repository_name;             // defaults to the folder's name
  std::string trigger = "local";
  std::map<std::string, std::string> secrets;
  bool keep_workspace = false;
  uint64_t max_log_bytes = StepLog::kDefaultMaxBytes;  // each step's log (--max-log-bytes)
  ContainerPods* pods = nullptr;           // `image:` services' containers; null: refused
};

// Told about the run as it goes, on top of the per-step StepObserver.
class RunObserver : public StepObserver {
 public:
  virtual void run_started(const RunRecord& /*run*/, const PlannedJob& /*job*/) {}
};

struct RunOutcome {
  RunRecord run;                           // as finally recorded
  std::optional<RunReport> report;         // absent when the job never ran (e.g. a bad spec)
  std::vector<std::string> diagnostics;    // .slipway.yml problems, "file:line:col: message"
  WorkspaceGuard workspace;                // removes the workspace when the outcome goes
};

// One environment's secrets, resolved when its job starts ("test" for the test job).
using SecretResolver = std::function<Result<std::map<std::string, std::string>>(const std::string& environment)>;

// What execute() needs beyond the run record.
struct RunSettings {
  std::map<std::string, std::string> secrets;   // the test job's, when no resolver is given
  bool keep_workspace = false;
  // The jobs to plan: absent means the test job alone (`slipway run`); the server fills in the
  // trigger, branch and environment policies, and publish jobs follow a green test job.
  std::optional<PlanRequest> plan;
  Publisher* publisher = nullptr;               // required when `plan` may hold publish jobs
  SecretResolver secrets_for;                   // may be empty: then `secrets` / none
  JobLimits limits = default_job_limits();      // the test job's ceiling (the server's `limits:`)
  bool docker = false;                          // the server granted the Docker Engine (root-equivalent)
  uint64_t max_log_bytes = StepLog::kDefaultMaxBytes;  // each step's log (max_log_bytes)
  ContainerPods* pods = nullptr;                // `image:` services' containers; null: refused
  // Carried by the run's reason whatever the outcome, e.g. why it had no secrets.
  std::string note;
  // A pull request tested as merged: this branch of the source is merged into the checkout.
  std::string merge_branch;
  // Why the run was cancelled, asked when it is recorded "cancelled" ("superseded by run #9"),
  // so that the record is right the first time; empty answer or none: the runner's own words.
  std::function<std::string()> cancel_reason;
  // The worker's template of this repository: the workspace is an overlay over it (only what
  // changed since the worker's last run is written). None: a full checkout.
  std::optional<WorkspaceTemplate> workspace_template;
};

class RunExecutor {
 public:
  RunExecutor(DataDirectory data, Store& store, Executor& executor);

  // create_run() then execute().
  Result<RunOutcome> run(const LocalRunRequest& request, RunObserver* observer,
                              const std::atomic<bool>* cancel);

  // Resolves the request's commit in its repository and records the run as "running", started
  // now. Errors: not a git repository, unknown revision, the store.
  Result<RunRecord> create_run(const LocalRunRequest& request);

  // Carries a recorded run from checkout to result: clones `run.source` (a local repository,
  // bare or not) at `run.commit`, and so on as above. A run not yet "running" (a queued one) is
  // marked running first. A run whose `cancel` is set before its first step is recorded
  // "cancelled" without running anything. `run` is updated as recorded.
  Result<RunOutcome> execute(RunRecord& run, RunObserver* observer,
                                  const std::atomic<bool>* cancel,
                                  const RunSettings& settings = {});

 private:
  struct Execution;
  // How a run ends: what conclude() records.
  struct RunEnd {
    RunStatus status;
    std::string reason;
  };
  // A phase's answer: an error (the store failed: nothing more can be recorded), the run's end
  // (stop here and conclude), or nothing (go on to the next phase).
  using PhaseResult = Result<std::optional<RunEnd>>;
  static std::optional<RunEnd> stop(RunStatus status, std::string reason) {
    return RunEnd{status, std::move(reason)};
  }

  PhaseResult prepare(Execution& execution);
  PhaseResult plan(Execution& execution);
  PhaseResult plan_and_check_out(Execution& execution);
  Status check_out(Execution& execution);
  PhaseResult test(Execution& execution);
  Result<RunEnd> publish(Execution& execution);
  Result<RunOutcome> conclude(Execution& execution, RunEnd end);

  DataDirectory data_;
  Store& store_;
  Executor& executor_;
};

}  // namespace slipway
