#include "store/run_queue_queries.h"

#include "base/time.h"
#include "store/sqlite_database.h"
#include "store/store_impl.h"

namespace slipway {

Result<std::vector<int64_t>> run_ids_in_status(Store& store, RunStatus status) {
  std::vector<int64_t> ids;
  Status read = store.database()
                    .stmt("SELECT id FROM runs WHERE status = ? ORDER BY id")
                    .bind(to_text(status))
                    .fetch<int64_t>([&](int64_t id) { ids.push_back(id); });
  if (!read) return store_error("run_ids_in_status", read.error().message);
  return ids;
}

Status set_queued_reason(Store& store, int64_t run_id, const std::string& reason) {
  return store_status("set_queued_reason",
                      store.database()
                          .stmt("UPDATE runs SET reason = ? WHERE id = ? AND status = 'queued'")
                          .bind(reason, run_id)
                          .exec());
}

Status set_queued_commit(Store& store, int64_t run_id, const std::string& sha) {
  return store_status("set_queued_commit",
                      store.database()
                          .stmt("UPDATE runs SET commit_sha = ? WHERE id = ? AND status = 'queued'")
                          .bind(sha, run_id)
                          .exec());
}

Result<bool> cancel_queued_run(Store& store, int64_t run_id, const std::string& reason) {
  Database& db = store.database();
  Status updated = db.stmt("UPDATE runs SET status = 'cancelled', reason = ?, finished_ms = ? "
                           "WHERE id = ? AND status = 'queued'")
                       .bind(reason, now_ms(), run_id)
                       .exec();
  if (!updated) return store_error("cancel_queued_run", updated.error().message);
  return db.changes() > 0;
}

Status fail_interrupted_run(Store& store, int64_t run_id, const std::string& reason) {
  Database& db = store.database();
  const int64_t now = now_ms();
  Status done = db.transaction([&]() -> Status {
    // Steps first: they are found through the run's jobs, whatever those become.
    for (auto [from, to] : {std::pair{RunStatus::running, RunStatus::failed}, std::pair{RunStatus::queued, RunStatus::skipped}}) {
      Status steps = db.stmt("UPDATE steps SET status = ?, reason = ?, finished_ms = ? WHERE status = ? "
                             "AND job_id IN (SELECT id FROM jobs WHERE run_id = ?)")
                         .bind(to_text(to), reason, now, to_text(from), run_id)
                         .exec();
      if (!steps) return steps;
      Status jobs = db.stmt("UPDATE jobs SET status = ?, reason = ?, finished_ms = ? WHERE status = ? AND run_id = ?")
                        .bind(to_text(to), reason, now, to_text(from), run_id)
                        .exec();
      if (!jobs) return jobs;
    }
    return db.stmt("UPDATE runs SET status = 'failed', reason = ?, finished_ms = ? WHERE id = ?")
        .bind(reason, now, run_id)
        .exec();
  });
  return store_status("fail_interrupted_run", done);
}

Result<std::optional<int64_t>> find_recent_run(Store& store, const std::string& repository,
                                               const std::string& branch, const std::string& commit,
                                               int64_t since_ms) {
  std::optional<int64_t> found;
  // runs_by_repository (repository, id) walks this repository's runs newest first and stops at
  // the first match; a walk with no match reads them all, which is fine at one lookup per
  // changed branch head per poll.
  Status read = store.database()
                    .stmt("SELECT id FROM runs WHERE repository = ? AND branch = ? AND commit_sha = ? "
                          "AND created_ms >= ? ORDER BY id DESC LIMIT 1")
                    .bind(repository, branch, commit, since_ms)
                    .fetch<int64_t>([&](int64_t id) { found = id; });
  if (!read) return store_error("find_recent_run", read.error().message);
  return found;
}

}  // namespace slipway
