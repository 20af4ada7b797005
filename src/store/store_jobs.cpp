// Jobs of a run and steps of a job: create, update by id, read back in order.
#include "store/store.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

constexpr std::string_view kJobColumns =
    "id, run_id, name, environment, status, reason, started_ms, finished_ms";

constexpr std::string_view kStepColumns =
    "id, job_id, position, name, kind, command, status, exit_code, reason, log_dir, started_ms, "
    "finished_ms";

JobRecord read_job(const Row& row) {
  return JobRecord{row.integer(0), row.integer(1), row.text(2),    row.text(3),
                   stored_run_status(row.text(4)), row.text(5), row.integer(6), row.integer(7)};
}

StepRecord read_step(const Row& row) {
  return StepRecord{row.integer(0),  row.integer(1), row.get<int>(2), row.text(3),
                    row.text(4),     row.text(5),    stored_run_status(row.text(6)), row.get<int>(7),
                    row.text(8),     row.text(9),    row.integer(10), row.integer(11)};
}

}  // namespace

Result<int64_t> Store::create_job(const JobRecord& job) {
  Database& db = *impl_->database;
  Status inserted = db.stmt("INSERT INTO jobs (run_id, name, environment, status, reason, "
                            "started_ms, finished_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")
                        .bind(job.run_id, job.name, job.environment, to_text(job.status), job.reason,
                              job.started_ms, job.finished_ms)
                        .exec();
  if (!inserted) return store_error("create_job", inserted.error().message);
  return db.last_insert_id();
}

Status Store::update_job(const JobRecord& job) {
  Database& db = *impl_->database;
  Status updated = db.stmt("UPDATE jobs SET status = ?, reason = ?, started_ms = ?, "
                           "finished_ms = ? WHERE id = ?")
                       .bind(to_text(job.status), job.reason, job.started_ms, job.finished_ms, job.id)
                       .exec();
  if (!updated) return store_status("update_job", updated);
  return expect_one_change("update_job", db, "job", job.id);
}

Result<std::vector<JobRecord>> Store::jobs_of_run(int64_t run_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM jobs WHERE run_id = ? ORDER BY id", kJobColumns);
  return read_rows(impl_->database->stmt(sql).bind(run_id), "jobs_of_run", read_job);
}

Result<std::optional<JobRecord>> Store::find_job(int64_t id) {
  static const std::string sql = fmt::format("SELECT {} FROM jobs WHERE id = ?", kJobColumns);
  return read_first(impl_->database->stmt(sql).bind(id), "find_job", read_job);
}

Result<int64_t> Store::create_step(const StepRecord& step) {
  Database& db = *impl_->database;
  Status inserted =
      db.stmt("INSERT INTO steps (job_id, position, name, kind, command, status, exit_code, "
              "reason, log_dir, started_ms, finished_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(step.job_id, step.position, step.name, step.kind, step.command, to_text(step.status),
                step.exit_code, step.reason, step.log_dir, step.started_ms, step.finished_ms)
          .exec();
  if (!inserted) return store_error("create_step", inserted.error().message);
  return db.last_insert_id();
}

Status Store::update_step(const StepRecord& step) {
  Database& db = *impl_->database;
  Status updated = db.stmt("UPDATE steps SET status = ?, exit_code = ?, reason = ?, log_dir = ?, "
                           "started_ms = ?, finished_ms = ? WHERE id = ?")
                       .bind(to_text(step.status), step.exit_code, step.reason, step.log_dir,
                             step.started_ms, step.finished_ms, step.id)
                       .exec();
  if (!updated) return store_status("update_step", updated);
  return expect_one_change("update_step", db, "step", step.id);
}

Result<std::vector<StepRecord>> Store::steps_of_job(int64_t job_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM steps WHERE job_id = ? ORDER BY position, id", kStepColumns);
  return read_rows(impl_->database->stmt(sql).bind(job_id), "steps_of_job", read_step);
}

Result<std::optional<StepRecord>> Store::find_step(int64_t id) {
  static const std::string sql = fmt::format("SELECT {} FROM steps WHERE id = ?", kStepColumns);
  return read_first(impl_->database->stmt(sql).bind(id), "find_step", read_step);
}

}  // namespace slipway
