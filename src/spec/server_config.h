// ServerConfig: the typed form of the server's slipway.yml (DESIGN §6): where it listens, how
// many runs at once, the environments and the repositories it builds. Parsed like .slipway.yml:
// unknown keys are errors with file:line:col and "did you mean"; never throws. Values in
// capitals in the file (credentials) are the *names* of secrets, never their values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "spec/job_limits.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"

namespace slipway {

// How long finished runs are kept: a finished run older than `max_age` is removed (its record,
// logs, report and workspace) unless it is among its repository's newest `keep_last` runs. A
// queued or running run is never removed. max_age 0: age protects nothing, keep_last alone counts.
struct RetentionConfig {
  Milliseconds max_age{90LL * 86'400'000};  // 90d
  int keep_last = 200;
};

// How the server reaches a remote repository: names of *server* secrets (`slipway secret set
// --server-only`), which no job ever receives. HTTPS: a token, sent as HTTP Basic auth
// (`username` and the token) in a header git reads from its environment. SSH: a private key
// and the pinned known_hosts lines; there is no trust on first use.
struct RepositoryAuth {
  std::string token_secret;
  std::string username;                 // "" = the forge's convention (x-access-token, oauth2)
  std::string ssh_key_secret;
  std::string known_hosts_secret;
};

// Where a repository's commit statuses go (`status:`): one context per job, set pending when
// the run is queued and when it starts, and to its outcome at the end. provider, api and project
// are inferred from a github.com or gitlab.com url when not written.
struct StatusConfig {
  std::string provider;                 // "github" | "gitea" | "gitlab"
  std::string api;                      // "https://api.github.com", "https://gitea.example/api/v1"
  std::string token_secret;             // a server secret's name
  std::string project;                  // "owner/name", or GitLab's numeric id
};

struct RepositoryConfig {
  std::string name;                     // [A-Za-z0-9_.-]+, unique
  // A local path (bare or work tree), a file:// URL, or a remote: https://, ssh://, git@host:path
  // (spec/repository_url.h). A remote is fetched into a mirror in the data directory.
  std::string url;
  std::string main_branch = "main";
  Milliseconds poll_interval{60'000};   // 0 disables polling for this repository; else at least 1s
  std::string webhook_secret;           // name of the secret holding the HMAC key; "" = none
  // `docker: true`: this repository's test jobs see the Docker Engine's socket. Root-equivalent
  // (docs/security.md): grant it only to repositories whose every pusher is trusted.
  bool docker = false;
  std::optional<RetentionConfig> retention;  // absent: the server's
  RepositoryAuth auth;                  // remote repositories only
  std::string ca_file;                  // https: the CA bundle to trust instead of the system's
  std::optional<StatusConfig> status;   // absent: no statuses are sent
  // `pull_requests: { test: merge }`: a pull request is tested merged into its target branch
  // (as the forge's merge button would make it), not as its head alone (`test: head`).
  bool test_pull_requests_merged = false;
};

// The infrastructure of an environment. Credentials are secret *names* (REGISTRY_PASSWORD),
// resolved through the secret store by the layer that uses them. Read and checked now so that
// a DESIGN §6 file is accepted whole; the publish and deploy issues act on them.
struct RegistryConfig {
  std::string url;                      // "127.0.0.1:5000/dev"
  std::string username_secret;          // "" = anonymous
  std::string password_secret;
};

struct BucketConfig {
  std::string url;                      // "s3://dev-artifacts"
  std::string endpoint;                 // "" = the AWS default
  std::string region = "us-east-1";
  bool path_style = true;               // `addressing: path` (default) or `virtual` (bucket.host)
  std::string access_key_secret;
  std::string secret_key_secret;
};

struct RouterConfig {
  std::string listen;                   // where users reach the application
  std::string test_listen;              // where a new version is checked before the switch
};

struct NotifyTarget {
  std::string kind;                     // "slack" | "webhook"
  std::string url_secret;               // the secret holding the URL
};

// A task run on a timer (issue 6): `schedules: [{ name, task, environment, cron, revision? }]`.
struct ScheduleConfig {
  std::string name;                     // [A-Za-z0-9_.-]+, unique
  std::string task;
  std::string environment;              // one of the configured environments
  std::string cron;                     // checked with CronExpression::parse
  int revision = 0;                     // pin a revision (it moves with new images); 0 = latest
};

struct EnvironmentConfig {
  std::string name;
  bool on_main = false;                 // `publish: on-main` (else `manual`)
  std::optional<RegistryConfig> registry;
  std::optional<BucketConfig> bucket;
  std::optional<RouterConfig> router;
  std::vector<NotifyTarget> notify;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:7700";
  int concurrency = 0;                  // 0: the number of cores
  bool cancel_superseded = true;        // a newer push cancels the branch's older run
  bool anonymous_read = false;          // GET routes without a token
  bool public_badges = true;
  // The server's address as people and forges reach it ("https://ci.example.com"): links in
  // statuses point there. "" = no links.
  std::string public_url;
  // How long an outside delivery (a forge status) is retried before it is given up.
  Milliseconds outbox_retry_for{24LL * 3'600'000};            // `badges: public | private`: /badge/NAME.svg without a token
  size_t max_body_bytes = 1 << 20;      // webhook/API bodies; larger: 413; at most 64m
  int max_connections = 512;            // open HTTP connections; more are answered 503 and closed
  int max_log_follows = 64;             // live log follows (SSE) open at once; more: 503
  uint64_t max_log_bytes = uint64_t{1} << 30;  // each step's log; further output is dropped
  RetentionConfig retention;            // for repositories without their own, and unknown ones
  std::string executor = "sandbox";     // "sandbox" | "host"
  // How often each environment's registry is asked for the digest of every application's
  // `latest` tag, in case a push notification was lost. 0 disables the poll.
  Milliseconds registry_poll_interval{30'000};
  std::vector<EnvironmentConfig> environments = {
      {"development", false, {}, {}, {}, {}}, {"staging", true, {}, {}, {}, {}},
      {"production", true, {}, {}, {}, {}}};
  std::vector<RepositoryConfig> repositories;
  std::vector<ScheduleConfig> schedules;
  int task_revisions_kept = 10;         // revisions per task beyond which old ones are deregistered
  // Each test job's ceiling (`limits:`); a repository's `test.limits` may only lower it.
  JobLimits limits = default_job_limits();

  // nullptr when no repository has that name.
  const RepositoryConfig* find_repository(std::string_view name) const;
  // The repository's own retention, else the server's (also for names not configured).
  RetentionConfig retention_for(std::string_view repository) const;
  // The environments as the job planner sees them, in file order.
  std::vector<EnvironmentPolicy> policies() const;
  // "hello-app, data-sync" (or "none configured"), for "unknown repository" messages.
  std::string repository_names() const;
};

struct ParsedServerConfig {
  std::optional<ServerConfig> config;
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return config.has_value(); }
};

// `file_name` appears in diagnostics only. An empty file (or only comments) is the defaults.
ParsedServerConfig parse_server_config(std::string_view yaml_text, std::string_view file_name);

}  // namespace slipway
