// The store side of a running job: its job and step rows, created before anything runs (so a
// run's page lists every step from the start), and an observer that mirrors each step's progress
// into them. Shared by the test job and the publish jobs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ci/run_executor.h"
#include "ci/test_job.h"
#include "spec/job_plan.h"
#include "base/time.h"
#include "store/store.h"

namespace slipway {

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
    record.status = RunStatus::running;
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

// Creates the job's row ("running", started now) and one row per planned step.
Result<JobRecord> record_job(Store& store, int64_t run_id, const PlannedJob& job,
                             const std::filesystem::path& log_root, std::vector<StepRecord>& steps);

}  // namespace slipway
