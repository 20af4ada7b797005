#include "ci/run_executor.h"

#include <future>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/time.h"
#include "ci/git_checkout.h"
#include "ci/job_records.h"
#include "ci/publish_stage.h"
#include "ci/run_events.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"
#include "spec/spec_file.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

std::string first_diagnostics(const std::vector<std::string>& diagnostics) {
  std::string reason = "invalid .slipway.yml: " + diagnostics.front();
  if (diagnostics.size() > 1) reason += fmt::format(" (and {} more)", diagnostics.size() - 1);
  return reason;
}

Status save_report(const RunReport& report, const fs::path& run_dir) {
  if (auto saved = write_file_atomically(run_dir / "report.json", report_to_json(report).dump(2)); !saved) return saved;
  return write_file_atomically(run_dir / "report.html", render_report_html(report));
}

Status record_suites(Store& store, int64_t run_id, const RunReport& report, const std::vector<StepRecord>& steps) {
  for (const SuiteReport& suite : report.suites) {
    SuiteResultRecord result;
    result.run_id = run_id;
    result.suite = suite.suite;
    for (const auto& step : steps) {
      if (step.kind == "suite" && step.name == suite.suite) result.step_id = step.id;
    }
    result.duration_ms = suite.duration.count();
    for (const auto& problem : suite.problems) result.problems += (result.problems.empty() ? "" : "\n") + problem;
    std::vector<TestCaseRecord> failures;
    if (suite.tests) {
      result.passed = suite.tests->passed;
      result.failed = suite.tests->failed;
      result.errored = suite.tests->errored;
      result.skipped = suite.tests->skipped;
      for (const auto& test_case : suite.tests->cases) {
        if (test_case.outcome != TestOutcome::failed && test_case.outcome != TestOutcome::errored) continue;
        failures.push_back({result.step_id, test_case.classname, test_case.name,
                            std::string(test_outcome_name(test_case.outcome)), test_case.message, test_case.details});
      }
    }
    if (auto recorded = store.record_suite_result(result, failures); !recorded) return recorded;
  }
  return {};
}

bool is_cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

}  // namespace

RunExecutor::RunExecutor(DataDirectory data, Store& store, Executor& executor)
    : data_(std::move(data)), store_(store), executor_(executor) {}

Result<RunOutcome> RunExecutor::run(const LocalRunRequest& request, RunObserver* observer,
                                         const std::atomic<bool>* cancel) {
  auto run = create_run(request);
  if (!run) return run.error();
  RunSettings settings{request.secrets, request.keep_workspace};
  settings.max_log_bytes = request.max_log_bytes;
  settings.pods = request.pods;
  return execute(*run, observer, cancel, settings);
}

Result<RunRecord> RunExecutor::create_run(const LocalRunRequest& request) {
  auto commit = resolve_commit(request.repository, request.revision);
  if (!commit) return commit.error();

  RunRecord run;
  run.repository = request.repository_name.empty() ? fs::absolute(request.repository).lexically_normal().filename().string()
                                                   : request.repository_name;
  if (run.repository.empty()) run.repository = fs::absolute(request.repository).parent_path().filename().string();
  run.source = fs::absolute(request.repository).lexically_normal().string();
  run.commit = commit->sha;
  run.branch = commit->branch;
  run.trigger = request.trigger;
  run.status = RunStatus::running;
  run.created_ms = run.started_ms = now_ms();
  auto run_id = store_.create_run(run);
  if (!run_id) return run_id.error();
  run.id = *run_id;
  return run;
}

// What one execute() carries from phase to phase.
struct RunExecutor::Execution {
  RunRecord& run;
  RunObserver* observer;
  const std::atomic<bool>* cancel;
  const RunSettings& settings;
  fs::path run_dir;
  fs::path workspace;
  RunOutcome outcome;
  std::optional<RepositorySpec> spec;
  JobPlan plan;
  JobRecord test_job;
  std::string test_reason;
};

Result<RunOutcome> RunExecutor::execute(RunRecord& run, RunObserver* observer, const std::atomic<bool>* cancel,
                                        const RunSettings& settings) {
  Execution execution{run, observer, cancel, settings};
  PhaseResult ended = prepare(execution);
  if (ended && !*ended) ended = test(execution);
  if (!ended) return ended.error();
  if (*ended) return conclude(execution, std::move(**ended));
  auto published = publish(execution);
  if (!published) return published.error();
  return conclude(execution, std::move(*published));
}

namespace {

// The folder of a workspace overlay's own layers, beside the workspace.
std::filesystem::path layers_of(const std::filesystem::path& run_dir) { return run_dir / "workspace-layers"; }

}  // namespace

// Over the worker's template when it has one (only what changed is written), else in full. A
// template that cannot serve (a source only `git clone` reads, a failed mount) costs a warning
// and a full checkout, never the run.
Status RunExecutor::check_out(Execution& execution) {
  const RunRecord& run = execution.run;
  const auto& workspace_template = execution.settings.workspace_template;
  if (workspace_template && !execution.settings.keep_workspace) {
    Status over = checkout_over_template(*workspace_template, run.source, run.commit, execution.workspace,
                                         layers_of(execution.run_dir));
    if (over) return {};
    spdlog::warn("run #{}: checking out in full: {}", run.id, over.error().message);
    std::error_code ignored;
    std::filesystem::remove_all(execution.workspace, ignored);
    std::filesystem::remove_all(layers_of(execution.run_dir), ignored);
  }
  return checkout_commit(run.source, run.commit, execution.workspace);
}

// Marks the run running, reads its .slipway.yml from the commit's objects and plans its jobs
// while its commit is checked out (merging a pull request's base when asked).
RunExecutor::PhaseResult RunExecutor::prepare(Execution& execution) {
  RunRecord& run = execution.run;
  if (is_cancelled(execution.cancel)) return stop(RunStatus::cancelled, "cancelled before it started");
  if (run.status != RunStatus::running) {
    run.status = RunStatus::running;
    run.reason.clear();
    run.started_ms = now_ms();
    if (auto updated = store_.update_run(run); !updated) return updated.error();
  }
  execution.run_dir = data_.run_dir(run.id);
  execution.workspace = execution.run_dir / "workspace";
  if (auto made = make_directories(execution.run_dir); !made) return stop(RunStatus::failed, made.error().message);
  // From here every way out removes the workspace (a partial checkout too), after the run's end
  // is recorded: the guard leaves with the outcome, or goes with it on an error.
  execution.outcome.workspace = WorkspaceGuard(execution.workspace, execution.settings.keep_workspace, layers_of(execution.run_dir));
  if (PhaseResult ready = plan_and_check_out(execution); !ready || *ready) return ready;
  if (!execution.settings.merge_branch.empty()) {
    if (Status merged = merge_branch_into_workspace(execution.workspace, execution.settings.merge_branch); !merged) {
      return stop(RunStatus::failed, merged.error().message);
    }
  }
  return std::optional<RunEnd>();  // go on
}

// The run's .slipway.yml, from the commit's git objects, not the checkout: a symlink there
// could name any file the server can read, and its errors would quote it (spec/spec_file.h).
RunExecutor::PhaseResult RunExecutor::plan(Execution& execution) {
  const RunRecord& run = execution.run;
  auto text = read_spec_at_revision(run.source, run.commit);
  if (!text) return stop(RunStatus::failed, text.error().message);
  ParsedSpec parsed = parse_repository_spec(*text, kSpecFileName);
  if (!parsed.ok()) {
    for (const auto& diagnostic : parsed.diagnostics) execution.outcome.diagnostics.push_back(diagnostic.to_string());
    return stop(RunStatus::failed, first_diagnostics(execution.outcome.diagnostics));
  }
  execution.spec = std::move(parsed.spec);
  PlanRequest plan_request = execution.settings.plan.value_or(PlanRequest{});
  if (!execution.settings.plan) plan_request.test_only = true;
  plan_request.branch = run.branch;
  execution.plan = expand_plan(*execution.spec, plan_request);
  return std::optional<RunEnd>();  // go on
}

// The checkout runs on a thread of its own while this one reads and plans .slipway.yml and has
// the executor make the test job's network (the sandbox's namespace, when the pool has none):
// each takes a program start or two and none needs another's result, so a one-off `slipway run`
// waits for the longest only. A .slipway.yml that fails costs a checkout the workspace guard
// removes.
RunExecutor::PhaseResult RunExecutor::plan_and_check_out(Execution& execution) {
  std::future<Status> checked_out = std::async(std::launch::async, [this, &execution] { return check_out(execution); });
  PhaseResult planned = plan(execution);
  if (planned && !*planned && !execution.plan.jobs.empty()) {
    if (std::optional<JobRequest> network = job_network_request(execution.plan.jobs.front())) {
      executor_.prepare_job(*network);
    }
  }
  Status checkout = checked_out.get();
  if (!planned || *planned) return planned;
  if (!checkout) return stop(RunStatus::failed, checkout.error().message);
  return std::optional<RunEnd>();  // go on
}

// Runs the test job with the "test" environment's secrets, then saves its report and records
// its suites and result.
RunExecutor::PhaseResult RunExecutor::test(Execution& execution) {
  RunRecord& run = execution.run;
  const RunSettings& settings = execution.settings;
  const PlannedJob& job = execution.plan.jobs.front();
  std::vector<StepRecord> steps;
  fs::path log_root = execution.run_dir / "logs" / job.name;
  auto job_record = record_job(store_, run.id, job, log_root, steps);
  if (!job_record) return job_record.error();
  if (execution.observer) execution.observer->run_started(run, job);

  RecordingObserver recorder(store_, steps, execution.observer);
  TestJobSettings job_settings;
  job_settings.workspace = execution.workspace;
  job_settings.log_root = log_root;
  job_settings.secrets = settings.secrets;
  if (settings.secrets_for) {
    // The test job sees the "test" environment's secrets: never a publish environment's.
    auto test_secrets = settings.secrets_for("test");
    if (!test_secrets) return stop(RunStatus::failed, "cannot read the test job's secrets: " + test_secrets.error().message);
    job_settings.secrets = std::move(*test_secrets);
  }
  job_settings.executor = &executor_;
  job_settings.limits = settings.limits;
  job_settings.docker = settings.docker;
  job_settings.pods = settings.pods;
  job_settings.observer = &recorder;
  job_settings.cancel = execution.cancel;
  job_settings.max_log_bytes = settings.max_log_bytes;
  TestJobResult result = run_test_job(job, job_settings);

  result.report.run_id = run.id;
  result.report.repository = run.repository;
  result.report.commit = run.commit;
  if (auto saved = save_report(result.report, execution.run_dir); !saved) return saved.error();
  run.report_dir = execution.run_dir.string();
  if (auto recorded = record_suites(store_, run.id, result.report, steps); !recorded) return recorded.error();
  if (!recorder.store_error().empty()) return make_error(recorder.store_error());

  job_record->status = result.passed ? RunStatus::passed : (is_cancelled(execution.cancel) ? RunStatus::cancelled : RunStatus::failed);
  job_record->reason = result.reason;
  job_record->finished_ms = now_ms();
  if (auto updated = store_.update_job(*job_record); !updated) return updated.error();
  execution.test_job = std::move(*job_record);
  execution.test_reason = std::move(result.reason);
  execution.outcome.report = std::move(result.report);
  return std::optional<RunEnd>();  // go on
}

// The publish stage (it records every publish job, skipped ones too, whatever the test job did)
// and the run's end that follows from both stages.
Result<RunExecutor::RunEnd> RunExecutor::publish(Execution& execution) {
  const bool test_passed = execution.test_job.status == RunStatus::passed;
  // The publish jobs run git in the workspace as the server's user; the test job could write its
  // .git (a hook would run here), so they get the one the checkout wrote.
  if (test_passed && execution.plan.jobs.size() > 1) {
    if (Status renewed = renew_git_directory(execution.run.source, execution.run.commit, execution.workspace);
        !renewed) {
      return RunEnd{RunStatus::failed, "publish: " + renewed.error().message};
    }
  }
  PublishStageInput stage_input{&execution.run, &*execution.spec, &execution.plan, test_passed, execution.workspace,
                                execution.run_dir, &execution.settings, execution.observer, execution.cancel};
  auto stage = run_publish_stage(store_, stage_input);
  if (!stage) return stage.error();
  if (test_passed && stage->failed == 0 && !execution.plan.skipped.empty()) {
    std::string skipped;
    for (const auto& why : execution.plan.skipped) skipped += (skipped.empty() ? "" : "; ") + why;
    return RunEnd{RunStatus::passed, "not published: " + skipped};
  }
  if (!test_passed || stage->failed == 0) return RunEnd{execution.test_job.status, execution.test_reason};
  std::string reason = stage->failed == 1 ? "publish failed: " + stage->reason
                                          : fmt::format("{} publish jobs failed; first: {}", stage->failed, stage->reason);
  return RunEnd{RunStatus::failed, std::move(reason)};
}

// Records the run's end with its "run.finished" event; a cancelled run says why it was
// cancelled (superseded, the server stopping), and the settings' note rides on every reason.
Result<RunOutcome> RunExecutor::conclude(Execution& execution, RunEnd end) {
  RunRecord& run = execution.run;
  const RunSettings& settings = execution.settings;
  run.status = std::move(end.status);
  run.reason = std::move(end.reason);
  if (run.status == RunStatus::cancelled && settings.cancel_reason) {
    if (std::string why = settings.cancel_reason(); !why.empty()) run.reason = std::move(why);
  }
  if (!settings.note.empty()) run.reason = run.reason.empty() ? settings.note : run.reason + " (" + settings.note + ")";
  run.finished_ms = now_ms();
  if (Status recorded = record_run_finished(store_, run); !recorded) return recorded.error();
  execution.outcome.run = run;
  return std::move(execution.outcome);
}

}  // namespace slipway
