#include "store/run_retention.h"

#include "store/store_impl.h"

namespace slipway {

Result<std::vector<std::string>> run_repositories(Store& store) {
  std::vector<std::string> names;
  Status read = store.database()
                    .stmt("SELECT DISTINCT repository FROM runs ORDER BY repository")
                    .fetch<std::string>([&](std::string name) { names.push_back(std::move(name)); });
  if (!read) return store_error("list the repositories with runs", read.error().message);
  return names;
}

Result<std::vector<RunRecord>> expired_runs(Store& store, const std::string& repository, int keep_last,
                                            int64_t before_ms, int64_t after_id, int limit) {
  std::vector<RunRecord> runs;
  Status read =
      store.database()
          .stmt("SELECT id, repository, commit_sha, branch, status, created_ms, finished_ms, report_dir FROM runs "
                "WHERE repository = ? AND id > ? AND status NOT IN ('queued', 'running') "
                "AND MAX(finished_ms, created_ms) < ? "
                "AND id NOT IN (SELECT id FROM runs WHERE repository = ? ORDER BY id DESC LIMIT ?) "
                "ORDER BY id LIMIT ?")
          .bind(repository, after_id, before_ms, repository, keep_last, limit)
          .each([&](const Row& row) {
            RunRecord run;
            run.id = row.integer(0);
            run.repository = row.text(1);
            run.commit = row.text(2);
            run.branch = row.text(3);
            run.status = stored_run_status(row.text(4));
            run.created_ms = row.integer(5);
            run.finished_ms = row.integer(6);
            run.report_dir = row.text(7);
            runs.push_back(std::move(run));
          });
  if (!read) return store_error("list the expired runs of " + repository, read.error().message);
  return runs;
}

}  // namespace slipway
