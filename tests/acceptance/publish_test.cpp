// Publish, end to end, against the real components: `slipway serve` with three environments,
// each with its own registry path (docker-registry with htpasswd) and bucket (s3rver), images
// built by dockerd, tags pushed to a bare origin. A push to main publishes staging and production;
// development only on a trigger; and each bad input (wrong credentials, registry down, missing
// bucket, failing Dockerfile, existing tag, secret not set) fails its own environment's job with
// a message naming the environment and the cause, leaves the other environments published, records
// nothing half-pushed, and shows no secret value in any log or in the database.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/registry_client.h"
#include "server/webhook_signature.h"
#include "support/command_with_input.h"
#include "support/docker_daemon.h"
#include "support/http_test_client.h"
#include "support/registry_fixture.h"
#include "support/s3rver_fixture.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;
const std::string kAdminToken = "publish-acceptance-admin-0123456789abcdef";
const std::string kTestSecret = "test-only-value-4711";
const std::string kProductionOnly = "production-only-value-9931";
const std::string kHookSecret = "hook-secret-value-5521";

struct Secret {
  std::string repository, environment, name, value;
};

// One `slipway serve` with its own data dir, configuration and secrets.
class PublishServer {
 public:
  PublishServer(const std::string& config, const std::vector<Secret>& secrets) : data_("slipway-publish") {
    std::ofstream(data_.path() / "slipway.yml") << config;
    fs::create_directories(data_.path() / "data");
    for (const auto& secret : secrets) {
      // The webhook's key is a server secret: set by its name alone.
      std::vector<std::string> address = {secret.repository, secret.environment, secret.name};
      if (secret.repository == "@server") address = {"--server-only", secret.name};
      std::vector<std::string> command = {SLIPWAY_BINARY, "secret", "set", "--data-dir", (data_.path() / "data").string()};
      command.insert(command.end(), address.begin(), address.end());
      auto set = run_with_input(command, secret.value, {{"SLIPWAY_SERVER", std::nullopt}});
      EXPECT_EQ(set.exit_code, 0) << set.err;
    }
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (data_.path() / "slipway.yml").string(), "--data-dir",
                                 (data_.path() / "data").string()},
        kAdminToken);
  }

  const fs::path data_dir() const { return data_.path() / "data"; }
  std::string log() const { return server_->log(); }

  nlohmann::json call(const std::string& method, const std::string& target, const std::string& body = "") {
    auto answer = http_request(server_->address(), method, target, {{"Authorization", "Bearer " + kAdminToken}}, body);
    return nlohmann::json::parse(answer.body, nullptr, false);
  }

  // Triggers `repository` (body as for POST .../trigger) and waits for the run to finish.
  nlohmann::json run(const std::string& repository, const std::string& body = "{}") {
    nlohmann::json created = call("POST", "/api/v1/repositories/" + repository + "/trigger", body);
    EXPECT_TRUE(created.contains("id")) << created.dump() << "\n" << log();
    if (!created.contains("id")) return {};
    return wait(created["id"].get<int64_t>());
  }

  // What a git host sends after a push to `branch`: a signed webhook. Returns the run it started.
  nlohmann::json push(const std::string& repository, const std::string& branch, const std::string& commit) {
    std::string body = nlohmann::json{{"ref", "refs/heads/" + branch}, {"before", std::string(40, '0')}, {"after", commit}}.dump();
    auto answer = http_request(server_->address(), "POST", "/api/v1/webhooks/git/" + repository,
                               {{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "delivery-" + commit + branch},
                                {"X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(kHookSecret, body)}},
                               body);
    nlohmann::json accepted = nlohmann::json::parse(answer.body, nullptr, false);
    EXPECT_TRUE(accepted.is_object() && accepted.value("run", int64_t{0}) > 0) << answer.status << " " << answer.body;
    if (!accepted.is_object() || accepted.value("run", int64_t{0}) <= 0) return {};
    return wait(accepted["run"].get<int64_t>());
  }

  nlohmann::json wait(int64_t id) {
    for (int i = 0; i < 1800; ++i) {
      nlohmann::json run = call("GET", "/api/v1/runs/" + std::to_string(id));
      if (!run.is_object()) {
        ADD_FAILURE() << "the server did not answer for run " << id << "\n" << log();
        return nlohmann::json::object();
      }
      std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not finish in 180 s\n" << log();
    return {};
  }

  // Every byte the server wrote: logs, reports, the database and its WAL.
  std::string everything_written() const {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(data_dir())) {
      if (!entry.is_regular_file() || entry.path().filename() == "master.key") continue;
      auto text = read_file(entry.path());
      if (text) all += *text;
    }
    return all;
  }

 private:
  TemporaryDirectory data_;
  std::unique_ptr<ServerProcess> server_;
};

nlohmann::json job_named(const nlohmann::json& run, const std::string& name) {
  for (const auto& job : run.value("jobs", nlohmann::json::array())) {
    if (job.value("name", "") == name) return job;
  }
  return nlohmann::json::object();  // empty: no such job
}

std::vector<nlohmann::json> artifacts_of(const nlohmann::json& run, const std::string& environment) {
  std::vector<nlohmann::json> found;
  for (const auto& artifact : run.value("artifacts", nlohmann::json::array())) {
    if (artifact.value("environment", "") == environment) found.push_back(artifact);
  }
  return found;
}

class Publish : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    docker_ = new DockerDaemon();
    registry_ = new RegistryServer();
    s3_ = new S3rverProcess(S3rverSettings{{"dev-artifacts", "stg-artifacts", "prod-artifacts"}});
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete registry_;
    delete docker_;
  }

  void SetUp() override {
    ASSERT_TRUE(docker_->error().empty()) << docker_->error();
    ASSERT_TRUE(registry_->error().empty()) << registry_->error();
    ASSERT_TRUE(s3_->running()) << s3_->error();
  }

  // The environments block: every environment gets the shared registry under its own path and
  // its own bucket; `overrides` replaces one environment's line.
  static std::string environments(const std::map<std::string, std::string>& overrides = {}) {
    auto line = [&](const std::string& name, const std::string& publish, const std::string& path,
                    const std::string& bucket) {
      auto custom = overrides.find(name);
      if (custom != overrides.end()) return "  " + name + ": " + custom->second + "\n";
      return fmt::format(
          "  {}:\n    publish: {}\n    registry: {{ url: {}/{}, username: REGISTRY_USER, password: REGISTRY_PASSWORD }}\n"
          "    bucket: {{ url: s3://{}/team, endpoint: {}, access_key: S3_ACCESS_KEY, secret_key: S3_SECRET_KEY }}\n",
          name, publish, registry_->address(), path, bucket, s3_->endpoint());
    };
    return "executor: host\nenvironments:\n" + line("development", "manual", "dev", "dev-artifacts") +
           line("staging", "on-main", "stg", "stg-artifacts") + line("production", "on-main", "prod", "prod-artifacts");
  }

  static std::string config(const std::string& repositories, const std::map<std::string, std::string>& overrides = {}) {
    return environments(overrides) + "repositories:\n" + repositories;
  }

  static std::vector<Secret> good_secrets() {
    std::vector<Secret> secrets;
    for (const char* environment : {"development", "staging", "production"}) {
      secrets.push_back({"*", environment, "REGISTRY_USER", registry_->username()});
      secrets.push_back({"*", environment, "REGISTRY_PASSWORD", registry_->password()});
      secrets.push_back({"*", environment, "S3_ACCESS_KEY", S3rverProcess::kAccessKey});
      secrets.push_back({"*", environment, "S3_SECRET_KEY", S3rverProcess::kSecretKey});
    }
    secrets.push_back({"*", "test", "TEST_ONLY", kTestSecret});
    secrets.push_back({"*", "production", "PRODUCTION_ONLY", kProductionOnly});
    secrets.push_back({"@server", "@server", "HOOK_SECRET", kHookSecret});
    return secrets;
  }

  // An application whose test job checks it sees the test secret and not production's, and
  // whose image is FROM scratch with one file (nothing to pull).
  static void write_application(ScratchRepository& repository, const std::string& dockerfile_extra = "") {
    repository.write(".slipway.yml",
                     "kind: application\n"
                     // The command names the value only by its hash: commands are stored in the clear.
                     "test:\n  suites:\n    unit: { run: 'test \"$(printf %s \"$TEST_ONLY\" | sha256sum | cut -c1-64)\" = " +
                         sha256_hex(kTestSecret) + " && test -z \"${PRODUCTION_ONLY:-}\" && echo test secrets ok' }\n"
                     "publish:\n  image: { dockerfile: Dockerfile, repository: hello-app }\n");
    repository.write("Dockerfile", "FROM scratch\nCOPY payload.txt /payload.txt\n" + dockerfile_extra);
    repository.write("payload.txt", "hello from " + repository.path().string() + "\n");
  }

  static std::string repository_line(const std::string& name, const ScratchRepository& repository) {
    return fmt::format("  - {{ name: {}, url: {}, main: main, poll_interval: 0s, webhook_secret: HOOK_SECRET }}\n", name,
                       repository.path().string());
  }

  static void expect_no_secret_written(const PublishServer& server) {
    std::string all = server.everything_written();
    for (const auto& secret : good_secrets()) {
      if (secret.value.size() < 4) continue;  // too short to mask by design
      EXPECT_EQ(all.find(secret.value), std::string::npos) << secret.name << " appears in the data directory";
    }
  }

  static DockerDaemon* docker_;
  static RegistryServer* registry_;
  static S3rverProcess* s3_;
};

DockerDaemon* Publish::docker_ = nullptr;
RegistryServer* Publish::registry_ = nullptr;
S3rverProcess* Publish::s3_ = nullptr;

// The image a registry holds under `tag`, by digest ("" when none).
std::string registry_digest(const RegistryServer& registry, const std::string& repository, const std::string& tag) {
  RegistryClient client(RegistryEndpoint{registry.address(), {registry.username(), registry.password()}, ""});
  auto digest = client.resolve_digest(repository, tag);
  return digest && *digest ? **digest : "";
}

TEST_F(Publish, PushToMainPublishesStagingAndProductionImagesVerifiedInTheRegistry) {
  ScratchRepository repository;
  write_application(repository);
  std::string commit = repository.commit();
  PublishServer server(config(repository_line("hello-app", repository)), good_secrets());

  nlohmann::json run = server.push("hello-app", "main", commit);
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2) << server.log();
  EXPECT_EQ(job_named(run, "publish:staging").value("status", ""), "passed");
  EXPECT_EQ(job_named(run, "publish:production").value("status", ""), "passed");
  EXPECT_TRUE(job_named(run, "publish:development").empty()) << "development publishes only on a trigger";

  std::string short_sha = commit.substr(0, 12);
  for (const auto& [environment, path] : {std::pair{"staging", "stg"}, std::pair{"production", "prod"}}) {
    auto artifacts = artifacts_of(run, environment);
    ASSERT_EQ(artifacts.size(), 1u) << run.dump(2);
    EXPECT_EQ(artifacts[0]["kind"], "image");
    EXPECT_EQ(artifacts[0]["name"], fmt::format("{}/{}/hello-app:{}", registry_->address(), path, short_sha));
    std::string digest = artifacts[0]["reference"];
    EXPECT_EQ(digest.rfind("sha256:", 0), 0u);
    EXPECT_EQ(registry_digest(*registry_, std::string(path) + "/hello-app", short_sha), digest);
    EXPECT_EQ(registry_digest(*registry_, std::string(path) + "/hello-app", "latest"), digest);
  }
  expect_no_secret_written(server);

  // `slipway runs show` lists the artifacts per environment.
  auto shown = run_command({SLIPWAY_BINARY, "runs", "show", std::to_string(run["id"].get<int64_t>()), "--data-dir",
                            server.data_dir().string()});
  ASSERT_TRUE(shown.ok());
  EXPECT_NE(shown->out.find("Published"), std::string::npos) << shown->out;
  EXPECT_NE(shown->out.find("production"), std::string::npos);
  EXPECT_NE(shown->out.find(artifacts_of(run, "production")[0]["reference"].get<std::string>()), std::string::npos);
}

TEST_F(Publish, DevelopmentPublishesOnlyWhenTriggeredAndProductionOnlyFromMain) {
  ScratchRepository repository;
  write_application(repository);
  repository.commit();
  repository.git({"checkout", "--quiet", "-b", "feature"});
  repository.write("payload.txt", "a feature\n");
  std::string feature = repository.commit("feature work");
  PublishServer server(config(repository_line("hello-app", repository)), good_secrets());

  // A push to a branch other than main publishes nowhere.
  nlohmann::json pushed = server.push("hello-app", "feature", feature);
  EXPECT_EQ(pushed.value("status", ""), "passed") << pushed.dump(2);
  EXPECT_EQ(pushed["jobs"].size(), 1u) << pushed.dump(2);

  nlohmann::json development = server.run("hello-app", R"({"branch": "feature", "environment": "development"})");
  ASSERT_EQ(development.value("status", ""), "passed") << development.dump(2) << server.log();
  ASSERT_EQ(artifacts_of(development, "development").size(), 1u) << development.dump(2);
  EXPECT_EQ(registry_digest(*registry_, "dev/hello-app", feature.substr(0, 12)),
            artifacts_of(development, "development")[0]["reference"]);

  nlohmann::json production = server.run("hello-app", R"({"branch": "feature", "environment": "production"})");
  EXPECT_TRUE(job_named(production, "publish:production").empty()) << production.dump(2);
  EXPECT_TRUE(artifacts_of(production, "production").empty());
  // Nor by naming a feature commit as if it were on main.
  auto refused = server.call("POST", "/api/v1/repositories/hello-app/trigger",
                             nlohmann::json{{"commit", feature}, {"branch", "main"}, {"environment", "production"}}.dump());
  EXPECT_NE(refused.value("error", "").find("is not on branch 'main'"), std::string::npos) << refused.dump();
}

// `aws s3 ls --recursive` of a bucket prefix: the keys, one per line.
std::string bucket_listing(const S3rverProcess& s3, const std::string& url) {
  auto listed = s3.aws({"s3", "ls", url, "--recursive"});
  return listed.out + listed.err;
}

TEST_F(Publish, DataTaskSyncsDagsAndUploadsDeterministicFunctionZips) {
  ScratchRepository repository;
  repository.write(".slipway.yml",
                   "kind: data-task\n"
                   "test:\n  suites:\n    unit: { run: 'true' }\n"
                   "publish:\n  image: { dockerfile: Dockerfile, repository: orders-etl }\n"
                   "  dags: { from: dags/, prefix: dags/ }\n"
                   "  functions: [ { name: ingest, from: functions/ingest } ]\n");
  repository.write("Dockerfile", "FROM scratch\nCOPY dags/ /dags/\n");
  repository.write("dags/daily.py", "# daily DAG\n");
  repository.write("dags/hourly.py", "# hourly DAG\n");
  repository.write("functions/ingest/handler.py", "def handler(event, context):\n    return event\n");
  std::string first = repository.commit();
  PublishServer server(config(repository_line("orders-etl", repository)), good_secrets());

  nlohmann::json run = server.push("orders-etl", "main", first);
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2) << server.log();
  auto staging = artifacts_of(run, "staging");
  ASSERT_EQ(staging.size(), 3u) << run.dump(2);
  EXPECT_EQ(staging[1]["kind"], "dags");
  EXPECT_EQ(staging[1]["detail"], "2 uploaded, 0 deleted, 0 unchanged");
  EXPECT_EQ(staging[2]["kind"], "function");
  std::string listing = bucket_listing(*s3_, "s3://stg-artifacts/team/");
  EXPECT_NE(listing.find("team/dags/daily.py"), std::string::npos) << listing;
  EXPECT_NE(listing.find("team/dags/hourly.py"), std::string::npos) << listing;
  EXPECT_NE(listing.find("team/functions/ingest/" + first.substr(0, 12) + ".zip"), std::string::npos) << listing;
  EXPECT_NE(bucket_listing(*s3_, "s3://prod-artifacts/team/").find("team/dags/daily.py"), std::string::npos);

  // One DAG changed, one removed: only the change goes up, the removed one goes away.
  repository.write("dags/daily.py", "# daily DAG, version 2\n");
  fs::remove(repository.path() / "dags/hourly.py");
  std::string second = repository.commit("second");
  nlohmann::json again = server.push("orders-etl", "main", second);
  ASSERT_EQ(again.value("status", ""), "passed") << again.dump(2);
  EXPECT_EQ(artifacts_of(again, "staging")[1]["detail"], "1 uploaded, 1 deleted, 0 unchanged");
  listing = bucket_listing(*s3_, "s3://stg-artifacts/team/dags/");
  EXPECT_EQ(listing.find("hourly.py"), std::string::npos) << listing;
  auto fetched = s3_->aws({"s3", "cp", "s3://stg-artifacts/team/dags/daily.py", "-"});
  EXPECT_EQ(fetched.out, "# daily DAG, version 2\n");
  // The function did not change: the same zip bytes, so the same hash, in both runs.
  EXPECT_EQ(artifacts_of(again, "staging")[2]["detail"], staging[2]["detail"]);
  expect_no_secret_written(server);
}

TEST_F(Publish, LibraryTagsTheCommitOnceAndPushesTheTagToOrigin) {
  ScratchRepository work;
  work.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: 'true' }\npublish:\n  tag: { bump: minor }\n");
  std::string commit = work.commit();
  work.git({"tag", "-a", "v1.4.2", "-m", "an earlier release"});
  TemporaryDirectory origin_folder("slipway-origin");
  fs::path origin = origin_folder.path() / "lib.git";
  ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", work.path().string(), origin.string()}).ok());
  work.write("lib.py", "VALUE = 2\n");
  work.commit("next");
  work.git({"push", "--quiet", origin.string(), "main"});
  std::string head = std::string(trim(work.git({"rev-parse", "HEAD"})));
  PublishServer server(config(fmt::format("  - {{ name: lib, url: {}, main: main, poll_interval: 0s, webhook_secret: HOOK_SECRET }}\n",
                                          origin.string())),
                       good_secrets());

  nlohmann::json run = server.push("lib", "main", head);
  ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2) << server.log();
  auto staging = artifacts_of(run, "staging");
  auto production = artifacts_of(run, "production");
  ASSERT_EQ(staging.size(), 1u);
  ASSERT_EQ(production.size(), 1u);
  EXPECT_EQ(staging[0]["name"], "v1.5.0");
  EXPECT_EQ(production[0]["name"], "v1.5.0") << "one version per commit, whatever the environments";
  auto on_origin = run_command_checked({"git", "-C", origin.string(), "rev-parse", "v1.5.0^{commit}"});
  ASSERT_TRUE(on_origin.ok());
  EXPECT_EQ(trim(*on_origin), head);
  auto type = run_command_checked({"git", "-C", origin.string(), "cat-file", "-t", "v1.5.0"});
  EXPECT_EQ(trim(*type), "tag") << "an annotated tag";
  (void)commit;
}

// The test job can write everything in its workspace, .git included; the publish stage then runs
// git there as the server's user. A hook or a configured command planted by the job must never
// run: the stage works on a .git the server wrote afresh. (Under the sandbox the job's /tmp is
// private, so the markers below can only appear if the server itself ran them.)
TEST_F(Publish, HooksAndGitConfigWrittenByTheTestJobNeverRunWhenTheTagIsPushed) {
  TemporaryDirectory markers("slipway-hook-markers");
  ::chmod(markers.path().c_str(), 0777);  // writable by anyone: only who runs the hook matters
  const fs::path hook_marker = markers.path() / "hook-ran";
  const fs::path config_marker = markers.path() / "config-ran";
  ScratchRepository work;
  std::string plant = fmt::format(
      "mkdir -p .git/hooks && printf '#!/bin/sh\\ntouch {0}\\n' > .git/hooks/pre-push && chmod +x .git/hooks/pre-push && "
      "cp .git/hooks/pre-push .git/hooks/reference-transaction && "
      "git config core.fsmonitor 'touch {1}' && git config core.hooksPath .git/hooks && "
      "git config alias.tag '!touch {1}' && echo planted",
      hook_marker.string(), config_marker.string());
  work.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"" + plant +
                                 "\" }\npublish:\n  tag: { bump: minor }\n");
  work.commit();
  TemporaryDirectory origin_folder("slipway-origin");
  fs::path origin = origin_folder.path() / "lib.git";
  ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", work.path().string(), origin.string()}).ok());
  std::string head = std::string(trim(work.git({"rev-parse", "HEAD"})));
  for (const char* executor : {"sandbox", "host"}) {
    SCOPED_TRACE(executor);
    std::string settings = config(fmt::format("  - {{ name: lib, url: {}, main: main, poll_interval: 0s, "
                                              "webhook_secret: HOOK_SECRET }}\n", origin.string()));
    settings.replace(0, settings.find('\n'), std::string("executor: ") + executor);
    PublishServer server(settings, good_secrets());
    nlohmann::json run = server.push("lib", "main", head);
    ASSERT_EQ(run.value("status", ""), "passed") << run.dump(2) << server.log();
    EXPECT_EQ(artifacts_of(run, "staging").size(), 1u) << run.dump(2);
    EXPECT_FALSE(fs::exists(hook_marker)) << "a hook the test job wrote ran as the server's user";
    EXPECT_FALSE(fs::exists(config_marker)) << "a command the test job configured ran as the server's user";
    // The second server must tag again: remove what the first pushed, and any marker.
    (void)run_command({"git", "-C", origin.string(), "tag", "--delete", "v0.1.0"});
    fs::remove(hook_marker);
    fs::remove(config_marker);
  }
}

// The bad inputs, each in one environment while the others publish.
TEST_F(Publish, WrongCredentialsFailOnlyThatEnvironmentAndLeakNothing) {
  ScratchRepository repository;
  write_application(repository);
  std::string commit = repository.commit();
  auto secrets = good_secrets();
  for (auto& secret : secrets) {
    if (secret.environment == "production" && secret.name == "REGISTRY_PASSWORD") secret.value = "wrong-password-8812";
  }
  PublishServer server(config(repository_line("hello-app", repository)), secrets);
  nlohmann::json run = server.push("hello-app", "main", commit);
  EXPECT_EQ(run.value("status", ""), "failed");
  EXPECT_EQ(job_named(run, "publish:staging").value("status", ""), "passed") << run.dump(2);
  nlohmann::json production = job_named(run, "publish:production");
  EXPECT_EQ(production.value("status", ""), "failed");
  std::string reason = production.value("reason", "");
  EXPECT_NE(reason.find("environment 'production'"), std::string::npos) << reason;
  EXPECT_NE(reason.find("refused the credentials"), std::string::npos) << reason;
  EXPECT_TRUE(artifacts_of(run, "production").empty());
  EXPECT_EQ(artifacts_of(run, "staging").size(), 1u);
  EXPECT_EQ(registry_digest(*registry_, "prod/hello-app", commit.substr(0, 12)), "");
  EXPECT_EQ(server.everything_written().find("wrong-password-8812"), std::string::npos);
  expect_no_secret_written(server);
}

TEST_F(Publish, RegistryDownMissingBucketAndUnsetSecretEachFailTheirEnvironment) {
  ScratchRepository repository;
  repository.write(".slipway.yml",
                   "kind: data-task\ntest:\n  suites:\n    unit: { run: 'true' }\n"
                   "publish:\n  image: { dockerfile: Dockerfile, repository: etl }\n  dags: { from: dags/, prefix: dags/ }\n");
  repository.write("Dockerfile", "FROM scratch\nCOPY dags/ /dags/\n");
  repository.write("dags/a.py", "# a\n");
  std::string commit = repository.commit();
  int closed_port = free_loopback_port();
  std::map<std::string, std::string> overrides = {
      {"development",
       fmt::format("{{ publish: on-main, registry: {{ url: 127.0.0.1:{}/dev, username: REGISTRY_USER, password: REGISTRY_PASSWORD }} }}",
                   closed_port)},
      {"production",
       fmt::format("{{ publish: on-main, registry: {{ url: {}/prod, username: REGISTRY_USER, password: REGISTRY_PASSWORD }}, "
                   "bucket: {{ url: s3://no-such-bucket/x, endpoint: {}, access_key: S3_ACCESS_KEY, secret_key: S3_SECRET_KEY }} }}",
                   registry_->address(), s3_->endpoint())}};
  auto secrets = good_secrets();
  std::erase_if(secrets, [](const Secret& s) { return s.environment == "staging" && s.name == "S3_SECRET_KEY"; });
  PublishServer server(config(repository_line("etl", repository), overrides), secrets);

  nlohmann::json run = server.push("etl", "main", commit);
  EXPECT_EQ(run.value("status", ""), "failed") << run.dump(2);
  std::string development = job_named(run, "publish:development").value("reason", "");
  EXPECT_NE(development.find("environment 'development'"), std::string::npos) << run.dump(2);
  EXPECT_NE(development.find("cannot reach the registry"), std::string::npos) << development;
  std::string staging = job_named(run, "publish:staging").value("reason", "");
  EXPECT_NE(staging.find("S3_SECRET_KEY"), std::string::npos) << staging;
  EXPECT_NE(staging.find("the bucket's secret key needs secret S3_SECRET_KEY, which is not set for etl in staging: "
                         "slipway secret set etl staging S3_SECRET_KEY"),
            std::string::npos)
      << staging;
  std::string production = job_named(run, "publish:production").value("reason", "");
  EXPECT_NE(production.find("no-such-bucket"), std::string::npos) << production;
  // Production's image step passed before its bucket step failed: the image is recorded (it is
  // verified in the registry), the DAGs are not.
  auto artifacts = artifacts_of(run, "production");
  ASSERT_EQ(artifacts.size(), 1u) << run.dump(2);
  EXPECT_EQ(artifacts[0]["kind"], "image");
  EXPECT_TRUE(artifacts_of(run, "development").empty());
  expect_no_secret_written(server);
}

TEST_F(Publish, FailingDockerfileFailsWithTheDaemonsMessageAndRecordsNothing) {
  ScratchRepository repository;
  write_application(repository, "COPY missing-file.txt /missing\n");
  std::string commit = repository.commit();
  PublishServer server(config(repository_line("hello-app", repository)), good_secrets());
  nlohmann::json run = server.push("hello-app", "main", commit);
  EXPECT_EQ(run.value("status", ""), "failed");
  for (const char* job : {"publish:staging", "publish:production"}) {
    std::string reason = job_named(run, job).value("reason", "");
    EXPECT_NE(reason.find("missing-file.txt"), std::string::npos) << reason;
  }
  EXPECT_TRUE(run["artifacts"].empty()) << run.dump(2);
}

// A Dockerfile's build output is the repository's to choose: its log is capped by the server's
// max_log_bytes like a test step's, and the step's reason says so.
TEST_F(Publish, AnImageBuildsLogIsCappedLikeATestSteps) {
  ScratchRepository repository;
  std::string labels;
  for (int i = 0; i < 40; ++i) labels += fmt::format("LABEL noise{}={}\n", i, std::string(200, 'x'));
  write_application(repository, labels);
  std::string commit = repository.commit();
  PublishServer server("max_log_bytes: 2k\n" + config(repository_line("hello-app", repository)), good_secrets());
  nlohmann::json run = server.push("hello-app", "main", commit);
  EXPECT_EQ(run.value("status", ""), "passed") << run.dump(2);
  // The image is built once per run: the environment that built it has the long log.
  int truncated = 0;
  for (const char* job : {"publish:staging", "publish:production"}) {
    nlohmann::json steps = job_named(run, job)["steps"];
    ASSERT_FALSE(steps.empty()) << run.dump(2);
    std::string reason = steps[0].value("reason", "");
    if (reason.find("log truncated at max_log_bytes (2 KiB)") != std::string::npos) ++truncated;
  }
  EXPECT_EQ(truncated, 1) << run.dump(2);
}

TEST_F(Publish, ExistingVersionTagIsRefused) {
  ScratchRepository work;
  work.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: 'true' }\npublish:\n  tag: { version_file: VERSION }\n");
  work.write("VERSION", "2.0.0\n");
  work.commit();
  work.git({"tag", "-a", "v2.0.0", "-m", "released"});
  work.write("lib.py", "VALUE = 3\n");
  std::string head = work.commit("forgot to bump VERSION");
  PublishServer server(config(repository_line("lib", work)), good_secrets());
  nlohmann::json run = server.push("lib", "main", head);
  EXPECT_EQ(run.value("status", ""), "failed");
  std::string reason = job_named(run, "publish:staging").value("reason", "");
  EXPECT_NE(reason.find("v2.0.0 already exists"), std::string::npos) << run.dump(2);
  EXPECT_TRUE(run["artifacts"].empty());
}

}  // namespace
}  // namespace slipway::testing
