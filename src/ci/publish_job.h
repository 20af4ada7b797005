// run_publish_job: carries out one publish job — one environment — step by step ("image",
// "dags", "function:NAME", "tag") through a Publisher, each step logging through a masking
// StepLog. The first failing step fails the job and skips the rest; an artifact is returned only
// for a step that finished and was verified in its destination, so nothing half-pushed is ever
// recorded as published. The CI layer knows no registry or bucket: the Publisher (publish/) does.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ci/test_job.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"
#include "store/store.h"

namespace slipway {

struct PublishedArtifact {
  std::string kind;        // "image", "dags", "function", "tag"
  std::string name;        // "127.0.0.1:5000/dev/hello-app:1a2b3c4d", "s3://bucket/dags/", "v1.2.3"
  std::string reference;   // "sha256:…", "s3://bucket/key", the tagged commit
  std::string detail;      // "3 uploaded, 1 deleted, 996 unchanged"
};

// What one publish step may use. `log` writes one line to the step's log (masked there).
struct PublishStepContext {
  const RunRecord* run = nullptr;
  const RepositorySpec* spec = nullptr;
  std::string environment;
  std::filesystem::path workspace;                        // the tested checkout
  std::filesystem::path scratch;                          // per-job temporary folder
  const std::map<std::string, std::string>* secrets = nullptr;  // this environment's only
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(std::string_view line)> log;     // Slipway's own lines
  // What the repository's code printed (an image build's output, RUN lines included): output
  // lines, counted against max_log_bytes and dropped beyond it, as a test step's are.
  std::function<void(std::string_view line)> output;
};

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Carries out one step; Error names the environment, the step and the cause.
  virtual Result<std::vector<PublishedArtifact>> publish(const PlannedStep& step,
                                                         const PublishStepContext& context) = 0;
  // The run's publish jobs are over: what was kept for it (a built image id) can go.
  virtual void run_finished(int64_t /*run_id*/) {}
};

struct PublishJobSettings {
  const RunRecord* run = nullptr;
  const RepositorySpec* spec = nullptr;
  std::filesystem::path workspace;
  std::filesystem::path log_root;                       // step N logs to log_root/NN-name/
  std::map<std::string, std::string> secrets;           // the environment's; masked in every log
  Publisher* publisher = nullptr;
  StepObserver* observer = nullptr;                     // may be null
  const std::atomic<bool>* cancel = nullptr;            // may be null
  uint64_t max_log_bytes = StepLog::kDefaultMaxBytes;   // each step's log (max_log_bytes), as for tests
};

struct PublishJobResult {
  bool passed = false;
  std::string reason;                                   // "environment 'staging': image: ..."
  std::vector<StepResult> steps;                        // parallel to job.steps
  std::vector<PublishedArtifact> artifacts;             // of the steps that passed
};

PublishJobResult run_publish_job(const PlannedJob& job, const PublishJobSettings& settings);

}  // namespace slipway
