// run_test_job: carries out the test job of a plan in a workspace that already holds the
// checkout. Order: setup, then the services (each started and polled until ready), then every
// suite — each one even if an earlier one failed — then the services are stopped, whatever
// happened. Setup, services (and their ready commands) and suites run in one JobScope of the
// executor: in the sandbox, one job sandbox with one private loopback. A job with `image:`
// services first opens a container pod (ci/service_containers.h) whose network namespace the
// sandbox joins; the pod goes, its containers removed, after the job scope. Every step logs
// through a masking StepLog; suites' JUnit reports and the Markdown the steps append to
// $SLIPWAY_SUMMARY become the job's RunReport (masked too).
#pragma once

#include <atomic>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/secret_masker.h"
#include "ci/executor.h"
#include "ci/run_report.h"
#include "ci/service_containers.h"
#include "ci/step_log.h"
#include "spec/job_plan.h"
#include "store/run_status.h"

namespace slipway {

struct StepResult {
  RunStatus status = RunStatus::skipped;  // passed, failed, skipped or cancelled
  std::string reason;               // why it failed or was skipped, for people
  StepOutcome outcome;
  int64_t started_ms = 0, finished_ms = 0;
  std::filesystem::path log_dir;
};

// Told about each step as it happens, from the thread that calls run_test_job (service logs
// may reach a step's listener from the service's own thread).
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual LogListener* step_listener(size_t /*index*/, const PlannedStep& /*step*/) { return nullptr; }
  virtual void step_started(size_t /*index*/, const PlannedStep& /*step*/) {}
  virtual void step_finished(size_t /*index*/, const PlannedStep& /*step*/, const StepResult& /*result*/) {}
};

struct TestJobSettings {
  std::filesystem::path workspace;
  std::filesystem::path log_root;                      // step N logs to log_root/NN-name/
  std::map<std::string, std::string> secrets;          // passed to every step as env vars
  Executor* executor = nullptr;                        // setup, services, suites: one job scope
  JobLimits limits = default_job_limits();             // the server's ceiling; the job may lower it
  bool docker = false;                                 // the job may reach the Docker Engine
  ContainerPods* pods = nullptr;                       // for `image:` services; null: none here
  StepObserver* observer = nullptr;                    // may be null
  const std::atomic<bool>* cancel = nullptr;           // may be null
  uint64_t max_log_bytes = StepLog::kDefaultMaxBytes;  // per step (max_log_bytes); see StepLog
};

struct TestJobResult {
  bool passed = false;
  std::string reason;                                  // first cause of failure, for the run
  std::vector<StepResult> steps;                       // parallel to job.steps
  RunReport report;                                    // suites and summary; caller fills ids
};

TestJobResult run_test_job(const PlannedJob& job, const TestJobSettings& settings);

// What the test job will ask of Executor::open_job, without the workspace and the limits: enough
// for Executor::prepare_job before the checkout. nullopt for a job with an `image:` service,
// whose network namespace its container pod makes.
std::optional<JobRequest> job_network_request(const PlannedJob& job);

// Where step `index` of a job logs: log_root/NN-name. Known before the step starts, so a run's
// records can point at a log that readers follow while it is being written.
std::filesystem::path step_log_dir(const std::filesystem::path& log_root, size_t index, const PlannedStep& step);

}  // namespace slipway
