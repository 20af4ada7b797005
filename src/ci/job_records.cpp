#include "ci/job_records.h"

#include "base/time.h"

namespace slipway {

namespace fs = std::filesystem;

Result<JobRecord> record_job(Store& store, int64_t run_id, const PlannedJob& job, const fs::path& log_root,
                             std::vector<StepRecord>& steps) {
  JobRecord job_record{0, run_id, job.name, job.environment, RunStatus::running, "", now_ms(), 0};
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

}  // namespace slipway
