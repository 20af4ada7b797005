// expand_plan: which jobs a run has and which steps each job runs. The environment rules of
// DESIGN §1 live here: development only on request, staging and production on the main
// branch, production never from any other branch.
#include "spec/job_plan.h"

#include <algorithm>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

bool is_production(std::string_view environment) { return environment == "production"; }

PlannedJob plan_test_job(const TestSpec& test) {
  PlannedJob job;
  job.name = "test";
  job.env = test.env;
  job.timeout = test.timeout;
  job.network_none = test.network_none;
  job.limits = test.limits;
  if (!test.setup.empty()) {
    job.steps.push_back({.name = "setup", .kind = StepKind::setup, .command = test.setup});
  }
  for (const auto& service : test.services) {
    job.steps.push_back({.name = "service:" + service.name, .kind = StepKind::service, .command = service.run,
                         .ready = service.ready, .ready_timeout = service.ready_timeout, .image = service.image,
                         .service_env = service.env});
  }
  for (const auto& suite : test.suites) {
    job.steps.push_back({.name = suite.name, .kind = StepKind::suite, .command = suite.run,
                         .junit = suite.junit, .timeout = suite.timeout.value_or(Milliseconds(0))});
  }
  return job;
}

std::vector<std::string> publish_step_names(const RepositorySpec& spec) {
  if (!spec.publish) return {};  // a test-only repository
  switch (spec.kind) {
    case Kind::application: return {"image"};
    case Kind::library: return {"tag"};
    case Kind::data_task: break;
  }
  std::vector<std::string> names;
  if (spec.publish->image) names.push_back("image");
  if (spec.publish->dags) names.push_back("dags");
  for (const auto& function : spec.publish->functions) names.push_back("function:" + function.name);
  return names;
}

PlannedJob plan_publish_job(const std::string& environment, const std::vector<std::string>& step_names) {
  PlannedJob job;
  job.name = "publish:" + environment;
  job.environment = environment;
  for (const auto& name : step_names) job.steps.push_back({.name = name, .kind = StepKind::publish});
  return job;
}

// The environments a manual run asked for, in the order asked, each once; unknown names are
// left out and explained.
std::vector<std::string> requested_environments(const PlanRequest& request, std::vector<std::string>& skipped) {
  std::vector<std::string> known;
  for (const auto& policy : request.policies) known.push_back(policy.name);
  std::vector<std::string> chosen;
  for (const auto& name : request.environments) {
    if (std::find(chosen.begin(), chosen.end(), name) != chosen.end()) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) {
      chosen.push_back(name);
      continue;
    }
    std::string match = closest_match(name, known);
    skipped.push_back(fmt::format("unknown environment '{}'{} (known: {})", name,
                                  match.empty() ? "" : fmt::format("; did you mean '{}'?", match), join(known, ", ")));
  }
  return chosen;
}

std::vector<std::string> target_environments(const PlanRequest& request, std::vector<std::string>& skipped) {
  bool on_main_branch = !request.branch.empty() && request.branch == request.main_branch;
  std::vector<std::string> targets;
  if (request.trigger == Trigger::push && on_main_branch) {
    for (const auto& policy : request.policies) {
      if (policy.on_main) targets.push_back(policy.name);
    }
  } else if (request.trigger == Trigger::manual) {
    targets = requested_environments(request, skipped);
  }
  // A schedule tests the code again; publishing stays with pushes and people.
  if (on_main_branch) return targets;
  std::erase_if(targets, [&](const std::string& environment) {
    if (!is_production(environment)) return false;
    skipped.push_back(fmt::format("'{}' is published only from the main branch '{}', not from {}", environment,
                                  request.main_branch,
                                  request.branch.empty() ? "a commit outside any branch" : "'" + request.branch + "'"));
    return true;
  });
  return targets;
}

}  // namespace

std::string_view step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::setup: return "setup";
    case StepKind::service: return "service";
    case StepKind::suite: return "suite";
    case StepKind::publish: return "publish";
  }
  return "unknown";
}

JobPlan expand_plan(const RepositorySpec& spec, const PlanRequest& request) {
  JobPlan plan;
  plan.jobs.push_back(plan_test_job(spec.test));
  if (request.test_only) return plan;
  std::vector<std::string> step_names = publish_step_names(spec);
  if (step_names.empty()) return plan;  // no `publish:` section: the repository is test-only
  for (const auto& environment : target_environments(request, plan.skipped)) {
    plan.jobs.push_back(plan_publish_job(environment, step_names));
  }
  return plan;
}

}  // namespace slipway
