#include "store/artifacts.h"

#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {

Result<int64_t> record_artifact(Store& store, const ArtifactRecord& artifact) {
  Database& db = store.database();
  Status inserted =
      db.stmt("INSERT INTO artifacts (run_id, job_id, environment, kind, name, reference, detail, created_ms) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(artifact.run_id, artifact.job_id, artifact.environment, artifact.kind, artifact.name,
                artifact.reference, artifact.detail, artifact.created_ms ? artifact.created_ms : now_ms())
          .exec();
  if (!inserted) return store_error("record artifact '" + artifact.name + "'", inserted.error().message);
  return db.last_insert_id();
}

Result<std::vector<ArtifactRecord>> artifacts_of_run(Store& store, int64_t run_id) {
  return read_rows(store.database()
                       .stmt("SELECT id, run_id, COALESCE(job_id, 0), environment, kind, name, reference, detail, "
                             "created_ms FROM artifacts WHERE run_id = ? ORDER BY id")
                       .bind(run_id),
                   "list artifacts of run " + std::to_string(run_id), [](const Row& row) {
                     return ArtifactRecord{row.integer(0), row.integer(1), row.integer(2), row.text(3), row.text(4),
                                           row.text(5),    row.text(6),    row.text(7),    row.integer(8)};
                   });
}

}  // namespace slipway
