#include "ci/local_run.h"

#include <fmt/core.h>

#include "base/files.h"
#include "base/time.h"
#include "ci/git_checkout.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// Mirrors each step's progress into the store, then passes it on to the caller's observer.
class RecordingObserver : public StepObserver {
 public:
  RecordingObserver(Store& store, std::vector<StepRecord>& steps, RunObserver* next)
      : store_(store), steps_(steps), next_(next) {}

  LogListener* step_listener(size_t index, const PlannedStep& step) override {
    return next_ ? next_->step_listener(index, step) : nullptr;
  }

  void step_started(size_t index, const PlannedStep& step) override {
    StepRecord& record = steps_[index];
    record.status = "running";
    record.started_ms = now_ms();
    keep(store_.update_step(record));
    if (next_) next_->step_started(index, step);
  }

  void step_finished(size_t index, const PlannedStep& step, const StepResult& result) override {
    StepRecord& record = steps_[index];
    record.status = result.status;
    record.reason = result.reason;
    record.exit_code = result.outcome.exit_code;
    record.log_dir = result.log_dir.string();
    record.started_ms = result.started_ms;
    record.finished_ms = result.finished_ms;
    keep(store_.update_step(record));
    if (next_) next_->step_finished(index, step, result);
  }

  // The first store failure, reported once the job is over: the run itself goes on.
  const std::string& store_error() const { return store_error_; }

 private:
  void keep(const Status& status) {
    if (!status && store_error_.empty()) store_error_ = status.error().message;
  }

  Store& store_;
  std::vector<StepRecord>& steps_;
  RunObserver* next_;
  std::string store_error_;
};

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

// Job and step records for the planned job, created before anything runs so that the run's page
// lists every step from the start.
Result<JobRecord> record_job(Store& store, int64_t run_id, const PlannedJob& job, const fs::path& log_root,
                             std::vector<StepRecord>& steps) {
  JobRecord job_record{0, run_id, job.name, job.environment, "running", "", now_ms(), 0};
  auto job_id = store.create_job(job_record);
  if (!job_id) return job_id.error();
  job_record.id = *job_id;
  for (size_t i = 0; i < job.steps.size(); ++i) {
    StepRecord step;
    step.job_id = job_record.id;
    step.position = static_cast<int>(i);
    step.name = job.steps[i].name;
    step.kind = std::string(step_kind_name(job.steps[i].kind));
    step.command = job.steps[i].command;
    step.log_dir = step_log_dir(log_root, i, job.steps[i]).string();
    auto step_id = store.create_step(step);
    if (!step_id) return step_id.error();
    step.id = *step_id;
    steps.push_back(step);
  }
  return job_record;
}

bool is_cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

}  // namespace

LocalRunner::LocalRunner(DataDirectory data, Store& store, Executor& executor, Executor& service_executor)
    : data_(std::move(data)), store_(store), executor_(executor), service_executor_(service_executor) {}

Result<LocalRunOutcome> LocalRunner::run(const LocalRunRequest& request, RunObserver* observer,
                                         const std::atomic<bool>* cancel) {
  auto run = create_run(request);
  if (!run) return run.error();
  return execute(*run, observer, cancel, RunSettings{request.secrets, request.keep_workspace});
}

Result<RunRecord> LocalRunner::create_run(const LocalRunRequest& request) {
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
  run.status = "running";
  run.created_ms = run.started_ms = now_ms();
  auto run_id = store_.create_run(run);
  if (!run_id) return run_id.error();
  run.id = *run_id;
  return run;
}

Result<LocalRunOutcome> LocalRunner::execute(RunRecord& run, RunObserver* observer,
                                             const std::atomic<bool>* cancel, const RunSettings& settings) {
  LocalRunOutcome outcome;
  auto finish = [&](std::string status, std::string reason) -> Result<LocalRunOutcome> {
    run.status = std::move(status);
    run.reason = std::move(reason);
    run.finished_ms = now_ms();
    if (auto updated = store_.update_run(run); !updated) return updated.error();
    outcome.run = run;
    return std::move(outcome);
  };
  if (is_cancelled(cancel)) return finish("cancelled", "cancelled before it started");
  if (run.status != "running") {
    run.status = "running";
    run.reason.clear();
    run.started_ms = now_ms();
    if (auto updated = store_.update_run(run); !updated) return updated.error();
  }

  fs::path run_dir = data_.run_dir(run.id);
  fs::path workspace = run_dir / "workspace";
  if (auto made = make_directories(run_dir); !made) return finish("failed", made.error().message);
  if (auto checked_out = checkout_commit(run.source, run.commit, workspace); !checked_out) {
    return finish("failed", checked_out.error().message);
  }
  auto removal = [&] {
    std::error_code ignored;  // a workspace that can't be removed costs disk, not correctness
    if (!settings.keep_workspace) fs::remove_all(workspace, ignored);
  };

  auto text = read_file(workspace / ".slipway.yml");
  if (!text) {
    removal();
    return finish("failed", fmt::format("commit {} has no .slipway.yml at the repository root: add one "
                                        "(see docs/slipway-yml.md)", run.commit.substr(0, 12)));
  }
  ParsedSpec parsed = parse_repository_spec(*text, ".slipway.yml");
  if (!parsed.ok()) {
    for (const auto& diagnostic : parsed.diagnostics) outcome.diagnostics.push_back(diagnostic.to_string());
    removal();
    return finish("failed", first_diagnostics(outcome.diagnostics));
  }

  // Publish jobs are carried out by a later stage: every run plans its test job alone for now.
  PlanRequest plan_request;
  plan_request.test_only = true;
  plan_request.branch = run.branch;
  JobPlan plan = expand_plan(*parsed.spec, plan_request);
  const PlannedJob& job = plan.jobs.front();

  std::vector<StepRecord> steps;
  fs::path log_root = run_dir / "logs" / job.name;
  auto job_record = record_job(store_, run.id, job, log_root, steps);
  if (!job_record) return job_record.error();
  if (observer) observer->run_started(run, job);

  RecordingObserver recorder(store_, steps, observer);
  TestJobSettings job_settings;
  job_settings.workspace = workspace;
  job_settings.log_root = log_root;
  job_settings.secrets = settings.secrets;
  job_settings.executor = &executor_;
  job_settings.service_executor = &service_executor_;
  job_settings.observer = &recorder;
  job_settings.cancel = cancel;
  TestJobResult result = run_test_job(job, job_settings);
  removal();

  result.report.run_id = run.id;
  result.report.repository = run.repository;
  result.report.commit = run.commit;
  if (auto saved = save_report(result.report, run_dir); !saved) return saved.error();
  run.report_dir = run_dir.string();
  if (auto recorded = record_suites(store_, run.id, result.report, steps); !recorded) return recorded.error();
  if (!recorder.store_error().empty()) return make_error(recorder.store_error());

  job_record->status = result.passed ? "passed" : (is_cancelled(cancel) ? "cancelled" : "failed");
  job_record->reason = result.reason;
  job_record->finished_ms = now_ms();
  if (auto updated = store_.update_job(*job_record); !updated) return updated.error();
  outcome.report = std::move(result.report);
  return finish(job_record->status, result.reason);
}

}  // namespace slipway
