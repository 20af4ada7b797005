#include "ci/publish_stage.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "ci/job_records.h"
#include "store/artifacts.h"
#include "store/events.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool is_cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

Status record_skipped_job(Store& store, int64_t run_id, const PlannedJob& job, const fs::path& log_root,
                          const std::string& reason) {
  std::vector<StepRecord> steps;
  auto record = record_job(store, run_id, job, log_root, steps);
  if (!record) return record.error();
  for (auto& step : steps) {
    step.status = RunStatus::skipped;
    step.reason = reason;
    if (auto updated = store.update_step(step); !updated) return updated;
  }
  record->status = RunStatus::skipped;
  record->reason = reason;
  record->finished_ms = record->started_ms;
  return store.update_job(*record);
}

Result<std::map<std::string, std::string>> environment_secrets(const RunSettings& settings,
                                                               const std::string& environment) {
  if (!settings.secrets_for) return std::map<std::string, std::string>{};
  auto secrets = settings.secrets_for(environment);
  if (!secrets) {
    return make_error(fmt::format("environment '{}': cannot read its secrets: {}", environment,
                                  secrets.error().message));
  }
  return secrets;
}

// One publish job: its rows, its run, its artifacts. Returns the job's final status and reason.
Result<JobRecord> run_one_job(Store& store, const PublishStageInput& input, const PlannedJob& job) {
  std::vector<StepRecord> steps;
  fs::path log_root = input.run_dir / "logs" / job.name;
  auto record = record_job(store, input.run->id, job, log_root, steps);
  if (!record) return record.error();
  // Told to whoever follows the event log (a forge's pending "slipway/publish:ENV" status).
  nlohmann::json started = {{"job", job.name}, {"environment", job.environment}};
  auto event = append_event(store, {0, "job.started", input.run->repository, input.run->id, started.dump(), 0});
  if (!event) return event.error();
  RecordingObserver recorder(store, steps, input.observer);

  PublishJobResult result;
  auto secrets = environment_secrets(*input.settings, job.environment);
  if (!secrets) {
    result.reason = secrets.error().message;
    for (auto& step : steps) {
      step.status = RunStatus::skipped;
      step.reason = "skipped: " + result.reason;
      if (auto updated = store.update_step(step); !updated) return updated.error();
    }
  } else {
    PublishJobSettings settings{input.run, input.spec, input.workspace, log_root, std::move(*secrets),
                                input.settings->publisher, &recorder, input.cancel, input.settings->max_log_bytes};
    result = run_publish_job(job, settings);
  }
  for (const auto& artifact : result.artifacts) {
    ArtifactRecord row{0, input.run->id, record->id, job.environment, artifact.kind, artifact.name,
                       artifact.reference, artifact.detail, 0};
    if (auto recorded = record_artifact(store, row); !recorded) return recorded.error();
  }
  if (!recorder.store_error().empty()) return make_error(recorder.store_error());
  record->status = result.passed ? RunStatus::passed : (is_cancelled(input.cancel) ? RunStatus::cancelled : RunStatus::failed);
  record->reason = result.reason;
  record->finished_ms = now_ms();
  if (auto updated = store.update_job(*record); !updated) return updated.error();
  return record;
}

}  // namespace

Result<PublishStageResult> run_publish_stage(Store& store, const PublishStageInput& input) {
  PublishStageResult stage;
  for (const PlannedJob& job : input.plan->jobs) {
    if (job.environment.empty()) continue;  // the test job
    if (!input.test_passed || is_cancelled(input.cancel)) {
      std::string reason = is_cancelled(input.cancel) ? "skipped: the run was cancelled"
                                                      : "skipped: the test job did not pass";
      if (auto recorded = record_skipped_job(store, input.run->id, job, input.run_dir / "logs" / job.name, reason);
          !recorded) {
        return recorded.error();
      }
      continue;
    }
    auto record = run_one_job(store, input, job);
    if (!record) {
      if (input.settings->publisher) input.settings->publisher->run_finished(input.run->id);
      return record.error();
    }
    if (record->status != RunStatus::passed) {
      ++stage.failed;
      if (stage.reason.empty()) stage.reason = record->reason;
    }
  }
  if (input.settings->publisher) input.settings->publisher->run_finished(input.run->id);
  return stage;
}

}  // namespace slipway
