// Opening the store, and the runs table. Jobs and steps live in store_jobs.cpp, suite results
// and failures in store_suite_results.cpp.
#include "store/store.h"

#include <algorithm>
#include <limits>

#include "base/files.h"
#include "base/time.h"
#include "store/migrations.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

// Long enough to ride out another writer's transaction (they are all short), short enough that
// a wedged process shows up as "database is locked" rather than a hang.
constexpr int kBusyTimeoutMs = 5000;

constexpr int kMaxListLimit = 1000;

constexpr std::string_view kRunColumns =
    "id, repository, source, commit_sha, branch, triggered_by, status, reason, created_ms, "
    "started_ms, finished_ms, report_dir, environments, pr_number, pr_title, pr_author, pr_source, "
    "pr_source_repository, pr_target, pr_fork, pr_url";

RunRecord read_run(const Row& row) {
  return RunRecord{row.integer(0), row.text(1),     row.text(2),     row.text(3),
                   row.text(4),    row.text(5),     stored_run_status(row.text(6)), row.text(7),
                   row.integer(8), row.integer(9), row.integer(10), row.text(11),
                   row.text(12),
                   PullRequestInfo{row.integer(13), row.text(14), row.text(15), row.text(16), row.text(17),
                                   row.text(18), row.integer(19) != 0, row.text(20)}};
}

// WAL lets the server's readers proceed while a run writes; NORMAL sync is durable across
// application crashes in WAL mode and skips an fsync per commit. The WAL file persists between
// processes (sqlite_database.cpp); journal_size_limit has SQLite truncate it after a checkpoint
// and at close, so it never holds more than 4 MiB idle. Foreign keys are off by default in
// SQLite and must be enabled per connection for the cascades to work.
Status configure(Database& database) {
  std::string mode;
  Status wal = database.stmt("PRAGMA journal_mode = WAL").fetch<std::string>([&](std::string m) {
    mode = std::move(m);
  });
  if (!wal) return wal;
  if (mode != "wal") {
    return make_error(fmt::format("cannot enable WAL mode (journal mode is '{}')", mode));
  }
  return database.execute("PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304; PRAGMA foreign_keys = ON");
}

// The WHERE clause for a filter; bind_run_filter binds its parameters in the same order.
std::string run_filter_sql(const RunFilter& filter) {
  std::string where = "WHERE id < ?";
  if (!filter.repository.empty()) where += " AND repository = ?";
  if (filter.status) where += " AND status = ?";
  if (filter.pull_request > 0) where += " AND pr_number = ?";
  if (!filter.branch.empty()) where += " AND branch = ?";
  return where;
}

Statement& bind_run_filter(Statement& statement, const RunFilter& filter) {
  statement.bind(filter.before_id > 0 ? filter.before_id : std::numeric_limits<int64_t>::max());
  if (!filter.repository.empty()) statement.bind(filter.repository);
  if (filter.status) statement.bind(to_text(*filter.status));
  if (filter.pull_request > 0) statement.bind(filter.pull_request);
  if (!filter.branch.empty()) statement.bind(filter.branch);
  return statement;
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& database_file) {
  std::string operation = fmt::format("open {}", database_file.string());
  if (database_file.has_parent_path()) {
    if (Status made = make_directories(database_file.parent_path()); !made) {
      return store_error(operation, made.error().message);
    }
  }
  auto database = Database::open(database_file, kBusyTimeoutMs);
  if (!database) return store_error(operation, database.error().message);
  if (Status configured = configure(**database); !configured) {
    return store_error(operation, configured.error().message);
  }
  Result<int> version = migrate(**database);
  if (!version) return store_error(operation, version.error().message);
  auto impl = std::make_unique<Impl>(Impl{std::move(*database), *version});
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

int Store::schema_version() const { return impl_->schema_version; }

Database& Store::database() { return *impl_->database; }

Result<int64_t> Store::create_run(const RunRecord& run) {
  Database& db = *impl_->database;
  Status inserted =
      db.stmt("INSERT INTO runs (repository, source, commit_sha, branch, triggered_by, status, "
              "reason, created_ms, started_ms, finished_ms, report_dir, environments, pr_number, pr_title, "
              "pr_author, pr_source, pr_source_repository, pr_target, pr_fork, pr_url) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(run.repository, run.source, run.commit, run.branch, run.trigger, to_text(run.status),
                run.reason, run.created_ms != 0 ? run.created_ms : now_ms(), run.started_ms,
                run.finished_ms, run.report_dir, run.environments, run.pull_request.number,
                run.pull_request.title, run.pull_request.author, run.pull_request.source,
                run.pull_request.source_repository, run.pull_request.target, run.pull_request.fork ? 1 : 0,
                run.pull_request.url)
          .exec();
  if (!inserted) return store_error("create_run", inserted.error().message);
  return db.last_insert_id();
}

Status Store::update_run(const RunRecord& run) {
  Database& db = *impl_->database;
  Status updated = db.stmt("UPDATE runs SET status = ?, reason = ?, started_ms = ?, "
                           "finished_ms = ?, report_dir = ? WHERE id = ?")
                       .bind(to_text(run.status), run.reason, run.started_ms, run.finished_ms,
                             run.report_dir, run.id)
                       .exec();
  if (!updated) return store_status("update_run", updated);
  return expect_one_change("update_run", db, "run", run.id);
}

Result<std::optional<RunRecord>> Store::find_run(int64_t id) {
  static const std::string sql = fmt::format("SELECT {} FROM runs WHERE id = ?", kRunColumns);
  return read_first(impl_->database->stmt(sql).bind(id), "find_run", read_run);
}

Result<std::vector<RunRecord>> Store::list_runs(const RunFilter& filter) {
  // At most four distinct texts, so each is prepared once and then served from the cache.
  std::string sql = fmt::format("SELECT {} FROM runs {} ORDER BY id DESC LIMIT ?", kRunColumns,
                                run_filter_sql(filter));
  Statement statement = impl_->database->stmt(sql);
  bind_run_filter(statement, filter).bind(std::clamp(filter.limit, 1, kMaxListLimit));
  return read_rows(statement, "list_runs", read_run);
}

Result<int64_t> Store::count_runs(const RunFilter& filter) {
  RunFilter unpaged = filter;
  unpaged.before_id = 0;
  Statement statement =
      impl_->database->stmt(fmt::format("SELECT count(*) FROM runs {}", run_filter_sql(unpaged)));
  int64_t count = 0;
  Status read = bind_run_filter(statement, unpaged).fetch<int64_t>([&](int64_t n) { count = n; });
  if (!read) return store_error("count_runs", read.error().message);
  return count;
}

Status Store::delete_run(int64_t id) {
  // Jobs, steps, suite results and failures go with it through ON DELETE CASCADE.
  return store_status("delete_run",
                      impl_->database->stmt("DELETE FROM runs WHERE id = ?").bind(id).exec());
}

}  // namespace slipway
