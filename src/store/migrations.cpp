#include "store/migrations.h"

#include <string>

#include <fmt/core.h>

namespace slipway {

namespace {

// Timestamps are integer milliseconds since the Unix epoch (0: not yet). Text columns are
// NOT NULL with '' defaults so rows read back the same way they were written.
// AUTOINCREMENT on runs keeps ids from being reused after old runs are pruned: run ids appear
// in URLs and in paging cursors.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  repository  TEXT    NOT NULL,
  source      TEXT    NOT NULL DEFAULT '',
  commit_sha  TEXT    NOT NULL DEFAULT '',
  branch      TEXT    NOT NULL DEFAULT '',
  triggered_by TEXT   NOT NULL DEFAULT '',
  status      TEXT    NOT NULL DEFAULT 'queued',
  reason      TEXT    NOT NULL DEFAULT '',
  created_ms  INTEGER NOT NULL DEFAULT 0,
  started_ms  INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  report_dir  TEXT    NOT NULL DEFAULT ''
);
-- Listing newest first, filtered by repository, status or both: each index ends in id so the
-- filtered scan is already in id order and LIMIT stops it early.
CREATE INDEX runs_by_repository ON runs (repository, id);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_repository_status ON runs (repository, status, id);

CREATE TABLE jobs (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  environment TEXT    NOT NULL DEFAULT '',
  status      TEXT    NOT NULL DEFAULT 'queued',
  reason      TEXT    NOT NULL DEFAULT '',
  started_ms  INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_run ON jobs (run_id, id);

CREATE TABLE steps (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  position    INTEGER NOT NULL DEFAULT 0,
  name        TEXT    NOT NULL,
  kind        TEXT    NOT NULL DEFAULT '',
  command     TEXT    NOT NULL DEFAULT '',
  status      TEXT    NOT NULL DEFAULT 'queued',
  exit_code   INTEGER NOT NULL DEFAULT -1,
  reason      TEXT    NOT NULL DEFAULT '',
  log_dir     TEXT    NOT NULL DEFAULT '',
  started_ms  INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX steps_by_job ON steps (job_id, position, id);

-- One row per suite step (the step is the key), so recording a result again replaces it.
CREATE TABLE suite_results (
  step_id     INTEGER PRIMARY KEY REFERENCES steps (id) ON DELETE CASCADE,
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  suite       TEXT    NOT NULL DEFAULT '',
  passed      INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  errored     INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  problems    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX suite_results_by_run ON suite_results (run_id, step_id);

CREATE TABLE test_failures (
  id          INTEGER PRIMARY KEY,
  step_id     INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  classname   TEXT    NOT NULL DEFAULT '',
  name        TEXT    NOT NULL DEFAULT '',
  outcome     TEXT    NOT NULL DEFAULT '',
  message     TEXT    NOT NULL DEFAULT '',
  details     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX test_failures_by_step ON test_failures (step_id, id);
)sql";

// The server: manual runs name the environments to publish to; API tokens (stored hashed);
// webhook deliveries, kept to drop duplicates; the branch heads polling last saw; and the
// durable event log every inbound notification is written to before it is acted on.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE runs ADD COLUMN environments TEXT NOT NULL DEFAULT '';

CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'deployer', 'read-only')),
  token_hash    TEXT NOT NULL UNIQUE,
  created_ms    INTEGER NOT NULL,
  last_used_ms  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
  delivery_id   TEXT PRIMARY KEY,
  repository    TEXT NOT NULL,
  received_ms   INTEGER NOT NULL,
  run_id        INTEGER REFERENCES runs (id) ON DELETE SET NULL
);

CREATE TABLE remote_heads (
  repository    TEXT NOT NULL,
  branch        TEXT NOT NULL,
  commit_sha    TEXT NOT NULL,
  seen_ms       INTEGER NOT NULL,
  PRIMARY KEY (repository, branch)
);

CREATE TABLE events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL,
  repository    TEXT NOT NULL DEFAULT '',
  run_id        INTEGER,
  payload       TEXT NOT NULL DEFAULT '{}',
  created_ms    INTEGER NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, id);
)sql";

// Issue 4: the secret store (values sealed with libsodium's secretbox under a master key that is
// never in this file) and what publish jobs produced.
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE secrets (
  repository    TEXT NOT NULL,            -- a repository's name, or '*' for environment-wide
  environment   TEXT NOT NULL,
  name          TEXT NOT NULL,
  sealed        TEXT NOT NULL,            -- base64(nonce + ciphertext); never the plaintext
  created_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (repository, environment, name)
);

CREATE TABLE artifacts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id        INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
  environment   TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('image', 'dags', 'function', 'tag')),
  name          TEXT NOT NULL,            -- "127.0.0.1:5000/dev/hello-app:1a2b3c4", "v1.2.3"...
  reference     TEXT NOT NULL,            -- digest, s3:// URL, or the tag's commit
  detail        TEXT NOT NULL DEFAULT '', -- e.g. "10 uploaded, 2 deleted, 988 unchanged"
  created_ms    INTEGER NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts (run_id, id);
)sql";

// Issue 5: image pushes the registry notified us of (its event id is the key, so a redelivered
// notification is recognised), looked up by repository and tag, newest first.
constexpr std::string_view kMigration4 = R"sql(
CREATE TABLE image_pushes (
  event_id      TEXT PRIMARY KEY,         -- the registry's event id
  registry      TEXT NOT NULL DEFAULT '', -- "127.0.0.1:5000"
  repository    TEXT NOT NULL,            -- "dev/hello-app"
  tag           TEXT NOT NULL,
  digest        TEXT NOT NULL,            -- the manifest's "sha256:..."
  media_type    TEXT NOT NULL DEFAULT '',
  received_ms   INTEGER NOT NULL
);
CREATE INDEX image_pushes_by_tag ON image_pushes (repository, tag, received_ms);
)sql";

// Issue 6: continuous deployment. Each rollout of a digest to an application's environment and
// every state it entered (written before the action it names, so a restarted server resumes it);
// image_pushes.handled_ms marks the pushes a deployment decision has been taken on, so a push
// that arrived while the server was down is still acted on exactly once.
constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE deployments (
  id              INTEGER PRIMARY KEY,
  application     TEXT    NOT NULL,
  environment     TEXT    NOT NULL,
  kind            TEXT    NOT NULL DEFAULT 'deploy',   -- 'deploy' | 'rollback'
  image           TEXT    NOT NULL DEFAULT '',
  digest          TEXT    NOT NULL DEFAULT '',
  tag             TEXT    NOT NULL DEFAULT '',
  state           TEXT    NOT NULL DEFAULT 'queued',
  outcome         TEXT    NOT NULL DEFAULT '',         -- '' while active
  reason          TEXT    NOT NULL DEFAULT '',
  slot            TEXT    NOT NULL DEFAULT '',
  port            INTEGER NOT NULL DEFAULT 0,
  container       TEXT    NOT NULL DEFAULT '',
  container_state TEXT    NOT NULL DEFAULT '',
  previous_id     INTEGER REFERENCES deployments (id), -- NULL: nothing was live before
  settings        TEXT    NOT NULL DEFAULT '{}',       -- JSON, opaque to the store
  created_ms      INTEGER NOT NULL DEFAULT 0,
  updated_ms      INTEGER NOT NULL DEFAULT 0,
  finished_ms     INTEGER NOT NULL DEFAULT 0
);
-- History per application and environment, newest first; the live one is the newest succeeded.
CREATE INDEX deployments_by_application ON deployments (application, environment, id);
-- The active ones (outcome '') are what a restarted server resumes.
CREATE INDEX deployments_by_outcome ON deployments (outcome, id);

CREATE TABLE deployment_steps (
  id              INTEGER PRIMARY KEY,
  deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
  state           TEXT    NOT NULL,
  message         TEXT    NOT NULL DEFAULT '',
  at_ms           INTEGER NOT NULL
);
CREATE INDEX deployment_steps_by_deployment ON deployment_steps (deployment_id, id);

ALTER TABLE image_pushes ADD COLUMN handled_ms INTEGER;  -- NULL: no decision taken yet
-- Only the few unhandled pushes are indexed, so finding them stays cheap as history grows.
CREATE INDEX image_pushes_unhandled ON image_pushes (received_ms) WHERE handled_ms IS NULL;
)sql";

// Issue 6: data tasks. A task's definition is a chain of immutable revisions per environment
// (a push of its image adds one pinned to the digest), so what ran is always on record; the
// schedules from the server config keep the revision they pin (configured_revision remembers what
// the config said, so a pin moved by new images survives a restart); and each run is written
// before its container exists, so a restarted server finds what a killed one left running.
constexpr std::string_view kMigration6 = R"sql(
CREATE TABLE task_revisions (
  id            INTEGER PRIMARY KEY,
  environment   TEXT    NOT NULL,
  task          TEXT    NOT NULL,
  repository    TEXT    NOT NULL DEFAULT '',
  revision      INTEGER NOT NULL,              -- 1, 2, 3... per (environment, task)
  image         TEXT    NOT NULL,              -- without tag or digest
  digest        TEXT    NOT NULL DEFAULT '',   -- '' until an image is pushed
  command       TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
  env           TEXT    NOT NULL DEFAULT '{}', -- JSON object of strings
  secrets       TEXT    NOT NULL DEFAULT '[]', -- JSON array of secret names
  cpus          REAL    NOT NULL DEFAULT 0,
  memory_bytes  INTEGER NOT NULL DEFAULT 0,
  timeout_ms    INTEGER NOT NULL DEFAULT 0,
  status        TEXT    NOT NULL DEFAULT 'active', -- active | inactive | deregistered
  reason        TEXT    NOT NULL DEFAULT '',
  created_ms    INTEGER NOT NULL,
  UNIQUE (environment, task, revision)
);
-- The active revision of a task, and of every task, is looked up on each trigger and listing.
CREATE INDEX task_revisions_by_status ON task_revisions (status, environment, task);
-- A pushed image finds the active tasks of its environment that use it.
CREATE INDEX task_revisions_by_image ON task_revisions (environment, image, status);

CREATE TABLE task_schedules (
  name                TEXT PRIMARY KEY,
  environment         TEXT    NOT NULL,
  task                TEXT    NOT NULL,
  cron                TEXT    NOT NULL,
  revision            INTEGER NOT NULL DEFAULT 0, -- pinned revision; 0 = the latest active
  configured_revision INTEGER NOT NULL DEFAULT 0, -- what the server config named
  last_fired_ms       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX task_schedules_by_task ON task_schedules (environment, task, revision);

CREATE TABLE task_runs (
  id            INTEGER PRIMARY KEY,
  environment   TEXT    NOT NULL,
  task          TEXT    NOT NULL,
  revision_id   INTEGER REFERENCES task_revisions (id), -- NULL: none recorded
  revision      INTEGER NOT NULL DEFAULT 0,
  trigger       TEXT    NOT NULL DEFAULT '',
  status        TEXT    NOT NULL DEFAULT 'queued',
  exit_code     INTEGER NOT NULL DEFAULT -1,
  reason        TEXT    NOT NULL DEFAULT '',
  container     TEXT    NOT NULL DEFAULT '',
  env           TEXT    NOT NULL DEFAULT '{}',        -- JSON: the trigger's overrides
  log_path      TEXT    NOT NULL DEFAULT '',
  created_ms    INTEGER NOT NULL,
  started_ms    INTEGER NOT NULL DEFAULT 0,
  finished_ms   INTEGER NOT NULL DEFAULT 0
);
-- A task's runs newest first.
CREATE INDEX task_runs_by_task ON task_runs (environment, task, id);
-- Only the few unfinished runs are indexed: what a restarted server marks interrupted.
CREATE INDEX task_runs_unfinished ON task_runs (id) WHERE status IN ('queued', 'running');
)sql";

// Issue 12: runs of pull and merge requests record which one they test, as the forge said it.
constexpr std::string_view kMigration7 = R"sql(
ALTER TABLE runs ADD COLUMN pr_number INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN pr_title TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pr_author TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pr_source TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pr_source_repository TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pr_target TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pr_fork INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN pr_url TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_pull_request ON runs (repository, pr_number) WHERE pr_number > 0;
)sql";

// Issue 12: the durable outbox of what Slipway tells the outside (forge commit statuses), one
// line per channel delivered in id order, and the cursors of the feeders that fill it from the
// event log (a cursor moves in the same transaction as the rows it produced).
constexpr std::string_view kMigration8 = R"sql(
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  channel          TEXT    NOT NULL,
  kind             TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  created_ms       INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
  state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  finished_ms      INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (channel, id) WHERE state = 'pending';
CREATE TABLE outbox_cursors (
  name      TEXT PRIMARY KEY,
  event_id  INTEGER NOT NULL
);
)sql";

Status apply_migration(Database& database, int version, std::string_view script) {
  return database.transaction([&]() -> Status {
    // Another process may have migrated between our first look and taking the write lock.
    Result<int> current = read_schema_version(database);
    if (!current) return current.error();
    if (*current >= version) return {};
    if (Status applied = database.execute(script); !applied) {
      return make_error(fmt::format("migration {}: {}", version, applied.error().message));
    }
    // PRAGMA cannot take a bound parameter; the version is our own integer.
    return database.execute(fmt::format("PRAGMA user_version = {}", version));
  });
}

}  // namespace

const std::vector<std::string_view>& schema_migrations() {
  static const std::vector<std::string_view> migrations = {
      kMigration1,
      kMigration2,
      kMigration3,
      kMigration4,
      kMigration5,
      kMigration6,
      kMigration7,
      kMigration8,
  };
  return migrations;
}

int latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

Result<int> read_schema_version(Database& database) {
  int version = 0;
  Status read = database.stmt("PRAGMA user_version").fetch<int>([&](int v) { version = v; });
  if (!read) return read.error();
  return version;
}

Result<int> migrate(Database& database) {
  Result<int> current = read_schema_version(database);
  if (!current) return current.error();
  int latest = latest_schema_version();
  if (*current > latest) {
    return make_error(fmt::format(
        "schema version {} is newer than this binary knows ({}): the database was written by a "
        "newer Slipway; upgrade slipway, or point it at another database file",
        *current, latest));
  }
  for (int version = *current + 1; version <= latest; ++version) {
    Status applied = apply_migration(database, version, schema_migrations()[version - 1]);
    if (!applied) return applied.error();
  }
  return latest;
}

}  // namespace slipway
