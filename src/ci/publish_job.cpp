#include "ci/publish_job.h"

#include <fmt/core.h>

#include "base/files.h"
#include "base/time.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

class PublishJobRun {
 public:
  PublishJobRun(const PlannedJob& job, const PublishJobSettings& settings)
      : job_(job), settings_(settings), masker_(make_masker(settings.secrets)) {
    result_.steps.resize(job.steps.size());
  }

  PublishJobResult run() {
    for (size_t i = 0; i < job_.steps.size(); ++i) {
      if (!result_.reason.empty()) {
        skip(i, RunStatus::skipped, "skipped: an earlier publish step failed");
      } else if (cancelled(settings_.cancel)) {
        skip(i, RunStatus::cancelled, "cancelled");
        result_.reason = "cancelled";
      } else {
        run_step(i);
      }
    }
    result_.passed = result_.reason.empty();
    return std::move(result_);
  }

 private:
  // A step that does not run: skipped after a failure, cancelled when the run was.
  void skip(size_t index, RunStatus status, const std::string& reason) {
    StepResult& step = result_.steps[index];
    step.status = status;
    step.reason = reason;
    step.log_dir = step_log_dir(settings_.log_root, index, job_.steps[index]);
    if (settings_.observer) settings_.observer->step_finished(index, job_.steps[index], step);
  }

  void run_step(size_t index) {
    const PlannedStep& step = job_.steps[index];
    StepResult& result = result_.steps[index];
    result.log_dir = step_log_dir(settings_.log_root, index, step);
    result.started_ms = now_ms();
    if (settings_.observer) settings_.observer->step_started(index, step);
    LogListener* listener = settings_.observer ? settings_.observer->step_listener(index, step) : nullptr;
    // Capped like a test step's: a Dockerfile's RUN lines are the repository's code, and the
    // build prints what they print.
    auto log = StepLog::create(result.log_dir, masker_, listener, StepLog::kDefaultChunkBytes, settings_.max_log_bytes);
    if (!log) return finish(index, make_error(log.error().message), nullptr);

    fs::path scratch = settings_.log_root.parent_path() / "scratch" / job_.environment;
    std::error_code ignored;
    fs::create_directories(scratch, ignored);
    PublishStepContext context{settings_.run, settings_.spec, job_.environment, settings_.workspace, scratch,
                               &settings_.secrets, settings_.cancel,
                               [&](std::string_view line) { (*log)->write_system_line(line); },
                               [&](std::string_view line) {
                                 (*log)->on_output(OutputStream::out, line);
                                 (*log)->on_output(OutputStream::out, "\n");
                               }};
    (*log)->write_system_line(fmt::format("publishing {} to environment '{}'", step.name, job_.environment));
    auto artifacts = settings_.publisher->publish(step, context);
    fs::remove_all(scratch, ignored);  // a scratch folder left behind costs disk, not correctness
    finish(index, std::move(artifacts), log->get());
  }

  void finish(size_t index, Result<std::vector<PublishedArtifact>> artifacts, StepLog* log) {
    const PlannedStep& step = job_.steps[index];
    StepResult& result = result_.steps[index];
    result.finished_ms = now_ms();
    result.outcome.duration = Milliseconds(result.finished_ms - result.started_ms);
    if (artifacts) {
      result.status = RunStatus::passed;
      result.outcome.exit_code = 0;
      for (auto& artifact : *artifacts) {
        if (log) log->write_system_line(fmt::format("published {} {} → {}", artifact.kind, artifact.name, artifact.reference));
        result_.artifacts.push_back(std::move(artifact));
      }
      if (log) log->write_system_line(fmt::format("{} published in {}", step.name, format_duration(result.outcome.duration)));
    } else {
      result.status = cancelled(settings_.cancel) ? RunStatus::cancelled : RunStatus::failed;
      result.outcome.exit_code = 1;
      // The reason is stored and shown outside the log, so it is masked here as the log is.
      result.reason = masker_->mask(
          fmt::format("environment '{}': {}: {}", job_.environment, step.name, artifacts.error().message));
      if (log) log->write_system_line(result.reason);
      result_.reason = result.reason;
    }
    if (log) {
      result.reason = log->with_truncation_note(result.reason);
      if (auto closed = log->close(); !closed && result_.reason.empty()) result_.reason = closed.error().message;
    }
    if (settings_.observer) settings_.observer->step_finished(index, step, result);
  }

  const PlannedJob& job_;
  const PublishJobSettings& settings_;
  std::shared_ptr<const SecretMasker> masker_;
  PublishJobResult result_;
};

}  // namespace

PublishJobResult run_publish_job(const PlannedJob& job, const PublishJobSettings& settings) {
  if (!settings.publisher) {
    PublishJobResult result;
    result.steps.resize(job.steps.size());
    result.reason = fmt::format("environment '{}': this Slipway has no publisher configured", job.environment);
    return result;
  }
  return PublishJobRun(job, settings).run();
}

}  // namespace slipway
