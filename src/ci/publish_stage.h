// The Publish stage of a run: every publish job of the plan, in plan order, each on its own —
// one environment's failure never stops another's. After a failed (or cancelled) test job the
// jobs are recorded "skipped" with the reason, so the run page still shows what would have run.
// A job gets only its own environment's secrets; a secret it cannot have fails that job alone.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "ci/run_executor.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"
#include "store/store.h"

namespace slipway {

struct PublishStageInput {
  RunRecord* run = nullptr;
  const RepositorySpec* spec = nullptr;
  const JobPlan* plan = nullptr;
  bool test_passed = false;
  std::filesystem::path workspace;
  std::filesystem::path run_dir;
  const RunSettings* settings = nullptr;
  RunObserver* observer = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

struct PublishStageResult {
  int failed = 0;
  std::string reason;          // the first failed job's reason; "" when every job passed
};

// Error only when the store itself failed.
Result<PublishStageResult> run_publish_stage(Store& store, const PublishStageInput& input);

}  // namespace slipway
