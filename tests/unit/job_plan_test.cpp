// expand_plan: the test job's steps, and which environments each trigger publishes to.
#include <gtest/gtest.h>

#include "spec/job_plan.h"

namespace slipway {
namespace {

RepositorySpec application() {
  RepositorySpec spec;
  spec.kind = Kind::application;
  spec.test.setup = "make init";
  spec.test.env = {{"DATABASE_URL", "postgresql://localhost/test"}};
  spec.test.services = {{"db", "scripts/start-db", "pg_isready", Milliseconds(30'000)}};
  spec.test.suites = {{"unit", "make test-unit", "reports/unit.xml", Milliseconds(300'000)},
                      {"integration", "make test-integration", "", std::nullopt}};
  spec.test.timeout = Milliseconds(20 * 60'000);
  spec.test.network_none = true;
  spec.publish = PublishSpec{};
  spec.publish->image = ImageSpec{.repository = "hello-app"};
  spec.deploy = DeploySpec{};
  return spec;
}

PlanRequest push(std::string branch) {
  PlanRequest request;
  request.trigger = Trigger::push;
  request.branch = std::move(branch);
  return request;
}

PlanRequest manual(std::string branch, std::vector<std::string> environments) {
  PlanRequest request;
  request.trigger = Trigger::manual;
  request.branch = std::move(branch);
  request.environments = std::move(environments);
  return request;
}

std::vector<std::string> job_names(const JobPlan& plan) {
  std::vector<std::string> names;
  for (const auto& job : plan.jobs) names.push_back(job.name);
  return names;
}

std::vector<std::string> step_names(const PlannedJob& job) {
  std::vector<std::string> names;
  for (const auto& step : job.steps) names.push_back(step.name);
  return names;
}

TEST(JobPlan, TestJobComesFirstWithEveryStep) {
  JobPlan plan = expand_plan(application(), push("main"));
  ASSERT_FALSE(plan.jobs.empty());
  const PlannedJob& test = plan.jobs[0];
  EXPECT_EQ(test.name, "test");
  EXPECT_EQ(test.environment, "");
  EXPECT_EQ(test.env.at("DATABASE_URL"), "postgresql://localhost/test");
  EXPECT_EQ(test.timeout, Milliseconds(20 * 60'000));
  EXPECT_TRUE(test.network_none);
  ASSERT_EQ(step_names(test), (std::vector<std::string>{"setup", "service:db", "unit", "integration"}));
  EXPECT_EQ(test.steps[0].kind, StepKind::setup);
  EXPECT_EQ(test.steps[0].command, "make init");
  EXPECT_EQ(test.steps[1].kind, StepKind::service);
  EXPECT_EQ(test.steps[1].command, "scripts/start-db");
  EXPECT_EQ(test.steps[1].ready, "pg_isready");
  EXPECT_EQ(test.steps[1].ready_timeout, Milliseconds(30'000));
  EXPECT_EQ(test.steps[2].kind, StepKind::suite);
  EXPECT_EQ(test.steps[2].command, "make test-unit");
  EXPECT_EQ(test.steps[2].junit, "reports/unit.xml");
  EXPECT_EQ(test.steps[2].timeout, Milliseconds(300'000));
  EXPECT_EQ(test.steps[3].junit, "");
  EXPECT_EQ(test.steps[3].timeout, Milliseconds(0));
}

TEST(JobPlan, AnImageServiceKeepsItsImageAndEnv) {
  RepositorySpec spec = application();
  ServiceSpec db;
  db.name = "db";
  db.image = "postgis/postgis:13";
  db.env = {{"POSTGRES_PASSWORD", "test"}};
  db.ready = "pg_isready -h 127.0.0.1";
  spec.test.services = {db};
  JobPlan plan = expand_plan(spec, push("main"));
  const PlannedStep& step = plan.jobs[0].steps[1];
  EXPECT_EQ(step.name, "service:db");
  EXPECT_EQ(step.kind, StepKind::service);
  EXPECT_EQ(step.command, "");
  EXPECT_EQ(step.image, "postgis/postgis:13");
  EXPECT_EQ(step.service_env.at("POSTGRES_PASSWORD"), "test");
  EXPECT_EQ(step.ready, "pg_isready -h 127.0.0.1");
}

TEST(JobPlan, NoSetupStepWithoutSetup) {
  RepositorySpec spec = application();
  spec.test.setup.clear();
  spec.test.services.clear();
  EXPECT_EQ(step_names(expand_plan(spec, push("main")).jobs[0]), (std::vector<std::string>{"unit", "integration"}));
}

TEST(JobPlan, PushOnMainPublishesToOnMainEnvironments) {
  JobPlan plan = expand_plan(application(), push("main"));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:staging", "publish:production"}));
  const PlannedJob& staging = plan.jobs[1];
  EXPECT_EQ(staging.environment, "staging");
  EXPECT_TRUE(staging.env.empty());
  ASSERT_EQ(step_names(staging), std::vector<std::string>{"image"});
  EXPECT_EQ(staging.steps[0].kind, StepKind::publish);
  EXPECT_EQ(staging.steps[0].command, "");
  EXPECT_TRUE(plan.skipped.empty());
}

TEST(JobPlan, PushOnBranchOnlyTests) {
  JobPlan plan = expand_plan(application(), push("feature-x"));
  EXPECT_EQ(job_names(plan), std::vector<std::string>{"test"});
}

TEST(JobPlan, PushOnBranchNeverPublishesProductionEvenIfItIsCalledMain) {
  PlanRequest request = push("trunk");
  request.main_branch = "trunk";
  EXPECT_EQ(job_names(expand_plan(application(), request)),
            (std::vector<std::string>{"test", "publish:staging", "publish:production"}));
  request.branch = "main";  // "main" is just a branch name when the main branch is trunk
  EXPECT_EQ(job_names(expand_plan(application(), request)), std::vector<std::string>{"test"});
}

TEST(JobPlan, ManualDevelopmentFromBranch) {
  JobPlan plan = expand_plan(application(), manual("feature-x", {"development"}));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:development"}));
  EXPECT_TRUE(plan.skipped.empty());
}

TEST(JobPlan, ManualProductionFromBranchIsRefused) {
  JobPlan plan = expand_plan(application(), manual("feature-x", {"development", "production"}));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:development"}));
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0], "'production' is published only from the main branch 'main', not from 'feature-x'");
}

TEST(JobPlan, ManualProductionFromDetachedCommitIsRefused) {
  PlanRequest request = manual("", {"production"});
  request.main_branch = "";  // an unknown main branch must not match an unknown branch
  JobPlan plan = expand_plan(application(), request);
  EXPECT_EQ(job_names(plan), std::vector<std::string>{"test"});
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_NE(plan.skipped[0].find("a commit outside any branch"), std::string::npos);
}

TEST(JobPlan, ManualProductionOnMainIsPlanned) {
  JobPlan plan = expand_plan(application(), manual("main", {"production"}));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:production"}));
}

TEST(JobPlan, ManualRunPlansExactlyTheRequestedEnvironmentsOnce) {
  JobPlan plan = expand_plan(application(), manual("main", {"staging", "development", "staging"}));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:staging", "publish:development"}));
}

TEST(JobPlan, UnknownEnvironmentIsSkippedWithAHint) {
  JobPlan plan = expand_plan(application(), manual("main", {"stagng"}));
  EXPECT_EQ(job_names(plan), std::vector<std::string>{"test"});
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0],
            "unknown environment 'stagng'; did you mean 'staging'? (known: development, staging, production)");
}

TEST(JobPlan, TestOnlyPlansTheTestJobAlone) {
  PlanRequest request = manual("main", {"production"});
  request.test_only = true;
  EXPECT_EQ(job_names(expand_plan(application(), request)), std::vector<std::string>{"test"});
  request = push("main");
  request.test_only = true;
  EXPECT_EQ(job_names(expand_plan(application(), request)), std::vector<std::string>{"test"});
}

TEST(JobPlan, ScheduleOnlyTests) {
  PlanRequest request = push("main");
  request.trigger = Trigger::schedule;
  EXPECT_EQ(job_names(expand_plan(application(), request)), std::vector<std::string>{"test"});
}

TEST(JobPlan, CustomPolicies) {
  PlanRequest request = push("main");
  request.policies = {{"qa", true}, {"production", false}, {"eu-production", true}};
  EXPECT_EQ(job_names(expand_plan(application(), request)),
            (std::vector<std::string>{"test", "publish:qa", "publish:eu-production"}));
}

TEST(JobPlan, DataTaskPublishSteps) {
  RepositorySpec spec = application();
  spec.kind = Kind::data_task;
  spec.deploy.reset();
  spec.publish->dags = DagsSpec{"dags/", "dags/"};
  spec.publish->functions = {{"ingest", "functions/ingest"}, {"export", "functions/export"}};
  JobPlan plan = expand_plan(spec, push("main"));
  ASSERT_EQ(plan.jobs.size(), 3u);
  EXPECT_EQ(step_names(plan.jobs[1]),
            (std::vector<std::string>{"image", "dags", "function:ingest", "function:export"}));

  spec.publish->image.reset();
  spec.publish->functions.clear();
  EXPECT_EQ(step_names(expand_plan(spec, push("main")).jobs[1]), std::vector<std::string>{"dags"});

  spec.publish.reset();  // nothing to publish: no empty publish jobs
  EXPECT_EQ(job_names(expand_plan(spec, push("main"))), std::vector<std::string>{"test"});
}

TEST(JobPlan, LibraryPublishesATag) {
  RepositorySpec spec = application();
  spec.kind = Kind::library;
  spec.publish = PublishSpec{};
  spec.publish->tag = TagSpec{"patch", ""};
  spec.deploy.reset();
  JobPlan plan = expand_plan(spec, push("main"));
  ASSERT_EQ(plan.jobs.size(), 3u);
  EXPECT_EQ(step_names(plan.jobs[1]), std::vector<std::string>{"tag"});
  EXPECT_EQ(step_names(plan.jobs[2]), std::vector<std::string>{"tag"});
}

TEST(JobPlan, ParsedFileExpands) {
  auto parsed = parse_repository_spec(
      "kind: library\ntest:\n  suites: { unit: cargo test }\npublish: { tag: { bump: patch } }\n", ".slipway.yml");
  ASSERT_TRUE(parsed.ok());
  JobPlan plan = expand_plan(*parsed.spec, manual("main", {"development"}));
  EXPECT_EQ(job_names(plan), (std::vector<std::string>{"test", "publish:development"}));
  EXPECT_EQ(plan.jobs[0].steps[0].command, "cargo test");
  EXPECT_EQ(plan.jobs[0].timeout, Milliseconds(30 * 60'000));
}

TEST(JobPlan, StepKindNames) {
  EXPECT_EQ(step_kind_name(StepKind::setup), "setup");
  EXPECT_EQ(step_kind_name(StepKind::service), "service");
  EXPECT_EQ(step_kind_name(StepKind::suite), "suite");
  EXPECT_EQ(step_kind_name(StepKind::publish), "publish");
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(JobPlanTestOnly, RepositoryWithoutPublishPlansOnlyTheTestJob) {
  ParsedSpec parsed = parse_repository_spec("kind: library\ntest: { suites: { unit: make } }\n", ".slipway.yml");
  ASSERT_TRUE(parsed.ok());
  PlanRequest request;
  request.trigger = Trigger::push;
  request.branch = "main";
  JobPlan plan = expand_plan(*parsed.spec, request);
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_EQ(plan.jobs[0].name, "test");
}

}  // namespace
}  // namespace slipway
