// JobPlan: a RepositorySpec expanded into the jobs of one run, each a list of steps.
// The test job always comes first; publish jobs (one per environment that this run publishes
// to) follow and run only when the test job passed. Expansion is pure: no I/O.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/time.h"
#include "spec/job_limits.h"
#include "spec/repository_spec.h"

namespace slipway {

enum class StepKind { setup, service, suite, publish };
std::string_view step_kind_name(StepKind kind);

struct PlannedStep {
  std::string name;          // "setup", "service:db", "unit", "image", "dags", "tag"...
  StepKind kind = StepKind::suite;
  std::string command;       // shell text for setup/service/suite; empty for publish steps
  std::string ready;         // services only
  Milliseconds ready_timeout{60'000};
  std::string image;         // image services only (then `command` is empty)
  std::map<std::string, std::string> service_env;  // image services only: the container's env
  std::string junit;         // suites only; may be empty
  Milliseconds timeout{0};   // 0: bounded by the job's timeout only
};

struct PlannedJob {
  std::string name;          // "test" or "publish:<environment>"
  std::string environment;   // empty for the test job
  std::map<std::string, std::string> env;
  std::vector<PlannedStep> steps;
  Milliseconds timeout{0};
  bool network_none = false;
  JobLimits limits;          // what the repository asked for (0: the server's ceiling)
};

struct JobPlan {
  std::vector<PlannedJob> jobs;
  // Requested environments that were not planned, each with the reason, e.g. "'production' is
  // published only from the main branch 'main', not from 'feature-x'". Empty for push runs.
  std::vector<std::string> skipped;
};

enum class Trigger { push, manual, schedule };

struct EnvironmentPolicy {
  std::string name;
  bool on_main = false;      // publishes by itself after a green Test on the main branch
};

struct PlanRequest {
  Trigger trigger = Trigger::manual;
  std::string branch;                    // empty when unknown (e.g. a detached commit)
  std::string main_branch = "main";
  std::vector<std::string> environments; // explicitly requested (manual trigger)
  std::vector<EnvironmentPolicy> policies = {
      {"development", false}, {"staging", true}, {"production", true}};
  bool test_only = false;                // `slipway run`: plan the test job alone
};

// Production is never planned from a branch other than main, whatever was requested.
JobPlan expand_plan(const RepositorySpec& spec, const PlanRequest& request);

}  // namespace slipway
