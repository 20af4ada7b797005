#include "ci/test_job.h"

#include <thread>

#include <fmt/core.h>

#include "base/files.h"
#include "base/masked_tail.h"
#include "base/strings.h"
#include "base/time.h"
#include "ci/suite_report.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool has_services(const PlannedJob& job) {
  for (const PlannedStep& step : job.steps) {
    if (step.kind == StepKind::service) return true;
  }
  return false;
}

const PlannedStep* first_image_service(const PlannedJob& job) {
  for (const PlannedStep& step : job.steps) {
    if (step.kind == StepKind::service && !step.image.empty()) return &step;
  }
  return nullptr;
}

constexpr Milliseconds kReadyPollInterval{200};
constexpr Milliseconds kReadyCommandTimeout{10'000};

// Keeps the last few KiB a readiness probe printed (masked), to explain a service that never got
// ready.
class LastOutputSink : public OutputSink {
 public:
  explicit LastOutputSink(std::shared_ptr<const SecretMasker> masker) : tail_(std::move(masker), 4096) {}
  void on_output(OutputStream, std::string_view bytes) override { tail_.add(bytes); }
  void clear() { tail_.clear(); }
  const std::string& text() { return tail_.text(); }

 private:
  MaskedTail tail_;
};

struct RunningService {
  size_t index;
  std::unique_ptr<StepLog> log;
  std::unique_ptr<BackgroundProcess> process;
};

// One execution of a test job; lives for the duration of run_test_job.
class TestJobRun {
 public:
  TestJobRun(const PlannedJob& job, const TestJobSettings& settings)
      : job_(job), settings_(settings), masker_(make_masker(settings.secrets)) {
    result_.steps.resize(job.steps.size());
    if (job.timeout.count() > 0) deadline_ms_ = now_ms() + job.timeout.count();
  }

  TestJobResult run() {
    auto summaries = settings_.workspace / ".slipway-summary";
    if (auto made = make_directories(summaries); !made) fail_job(made.error().message);
    bool prerequisites_ok = open_job();
    for (size_t i = 0; i < job_.steps.size(); ++i) {
      const PlannedStep& step = job_.steps[i];
      if (step.kind == StepKind::suite) {
        run_suite(i, prerequisites_ok);
      } else if (!prerequisites_ok) {
        skip(i, "skipped: an earlier step failed");
      } else if (step.kind == StepKind::service) {
        prerequisites_ok = start_service(i);
      } else {
        prerequisites_ok = run_foreground(i) && prerequisites_ok;
      }
    }
    stop_services();
    job_scope_.reset();
    pod_.reset();
    result_.passed = result_.reason.empty() && result_.report.passed();
    if (!result_.passed && result_.reason.empty()) result_.reason = failed_suites();
    return std::move(result_);
  }

 private:
  bool cancelled() const { return settings_.cancel && settings_.cancel->load(); }

  // The sandbox (or nothing, on the host) that every step and service of the job shares; first
  // the container pod whose network it joins, when a service is an image.
  bool open_job() {
    const PlannedStep* image_service = first_image_service(job_);
    JobRequest request{settings_.workspace, job_.network_none, has_services(job_),
                       lower_limits(settings_.limits, job_.limits), settings_.docker};
    if (image_service) {
      if (!open_pod(*image_service)) return false;
      request.network_pid = pod_->network_pid();
    }
    auto opened = settings_.executor->open_job(request);
    if (opened) {
      job_scope_ = std::move(*opened);
      return true;
    }
    fail_job(opened.error().message);
    return false;
  }

  bool open_pod(const PlannedStep& service) {
    if (!settings_.pods) {
      fail_job(fmt::format("{} runs the image {}, but this runner cannot start service containers", service.name,
                           service.image));
      return false;
    }
    auto pod = settings_.pods->open();
    if (!pod) {
      fail_job(fmt::format("{} runs the image {}, which needs a container pod: {}", service.name, service.image,
                           pod.error().message));
      return false;
    }
    pod_ = std::move(*pod);
    return true;
  }

  // "unit exited with status 137 (out of memory (job limit 64 MiB))" when the job hit a limit
  // during the step: the reason names the limit rather than only its symptom.
  std::string with_limit(const std::string& reason, const std::string& limit_before) const {
    std::string limit = job_scope_ ? job_scope_->limit_reached() : "";
    return limit.empty() || limit == limit_before ? reason : fmt::format("{}: {}", reason, limit);
  }

  // The time left before the job's timeout; nullopt when the job has no limit.
  std::optional<Milliseconds> remaining() const {
    if (deadline_ms_ == 0) return std::nullopt;
    return Milliseconds(std::max<int64_t>(0, deadline_ms_ - now_ms()));
  }

  void fail_job(std::string reason) {
    if (result_.reason.empty()) result_.reason = masker_->mask(reason);
  }

  StepCommand command_for(size_t index, const std::string& script, Milliseconds step_timeout) const {
    StepCommand command;
    command.script = script;
    command.workspace = settings_.workspace;
    command.env = job_.env;
    for (const auto& [name, value] : settings_.secrets) command.env[name] = value;
    command.env["SLIPWAY_WORKSPACE"] = settings_.workspace.string();
    command.env["SLIPWAY_STEP"] = job_.steps[index].name;
    command.env["SLIPWAY_SUMMARY"] = summary_file(index).string();
    command.network_none = job_.network_none;
    command.job = job_scope_.get();
    Milliseconds limit = step_timeout;
    if (auto left = remaining(); left && (limit.count() == 0 || *left < limit)) limit = *left;
    command.timeout = limit;
    return command;
  }

  fs::path summary_file(size_t index) const {
    return settings_.workspace / ".slipway-summary" / fmt::format("{:02}.md", index + 1);
  }

  fs::path log_dir(size_t index) const { return step_log_dir(settings_.log_root, index, job_.steps[index]); }

  Result<std::unique_ptr<StepLog>> open_log(size_t index) {
    LogListener* listener = settings_.observer ? settings_.observer->step_listener(index, job_.steps[index]) : nullptr;
    return StepLog::create(log_dir(index), masker_, listener, StepLog::kDefaultChunkBytes, settings_.max_log_bytes);
  }

  // Starts step `index` and opens its log; when the log cannot be opened, the step and the job
  // are failed already and the result is null.
  std::unique_ptr<StepLog> begin_logged(size_t index) {
    begin(index);
    auto log = open_log(index);
    if (log) return std::move(*log);
    fail_job(log.error().message);
    finish(index, RunStatus::failed, log.error().message);
    return nullptr;
  }

  void begin(size_t index) {
    result_.steps[index].started_ms = now_ms();
    result_.steps[index].log_dir = log_dir(index);
    if (settings_.observer) settings_.observer->step_started(index, job_.steps[index]);
  }

  void finish(size_t index, RunStatus status, std::string reason) {
    StepResult& step = result_.steps[index];
    step.status = status;
    step.reason = masker_->mask(reason);
    step.finished_ms = now_ms();
    if (settings_.observer) settings_.observer->step_finished(index, job_.steps[index], step);
  }

  void skip(size_t index, std::string reason) {
    result_.steps[index].started_ms = result_.steps[index].finished_ms = now_ms();
    finish(index, cancelled() ? RunStatus::cancelled : RunStatus::skipped, std::move(reason));
  }

  std::string describe(const PlannedStep& step, const StepOutcome& outcome) const {
    if (outcome.cancelled) return fmt::format("{} was cancelled", step.name);
    if (outcome.timed_out) return fmt::format("{} timed out after {}", step.name, format_duration(outcome.duration));
    if (outcome.signal) return fmt::format("{} was killed by signal {}", step.name, outcome.signal);
    return fmt::format("{} exited with status {}", step.name, outcome.exit_code);
  }

  // Runs a setup or suite step to completion; returns whether it succeeded.
  bool execute(size_t index, std::deque<std::string>* tail) {
    const PlannedStep& step = job_.steps[index];
    auto log = begin_logged(index);
    if (!log) return false;
    const std::string limit_before = job_scope_->limit_reached();
    auto outcome = settings_.executor->run(command_for(index, step.command, step.timeout), *log, settings_.cancel);
    StepResult& result = result_.steps[index];
    if (!outcome) {
      log->write_system_line(outcome.error().message);
      (void)log->close();
      fail_job(fmt::format("{}: {}", step.name, outcome.error().message));
      finish(index, RunStatus::failed, outcome.error().message);
      return false;
    }
    result.outcome = *outcome;
    bool ok = outcome->succeeded();
    const std::string failure = ok ? "" : with_limit(describe(step, *outcome), limit_before);
    log->write_system_line(ok ? fmt::format("{} passed in {}", step.name, format_duration(outcome->duration)) : failure);
    if (auto closed = log->close(); !closed) fail_job(closed.error().message);
    if (tail) *tail = log->tail();
    collect_summary(index);
    if (outcome->timed_out && remaining() && remaining()->count() == 0) {
      fail_job(fmt::format("the test job's timeout ({}) was reached during {}", format_duration(job_.timeout), step.name));
    }
    if (outcome->cancelled) fail_job("cancelled");
    finish(index, ok ? RunStatus::passed : (outcome->cancelled ? RunStatus::cancelled : RunStatus::failed), log->with_truncation_note(failure));
    return ok;
  }

  bool run_foreground(size_t index) {
    if (cancelled()) {
      skip(index, "cancelled before it started");
      fail_job("cancelled");
      return false;
    }
    bool ok = execute(index, nullptr);
    if (!ok) fail_job(fmt::format("{} failed: {}", job_.steps[index].name, result_.steps[index].reason));
    return ok;
  }

  void run_suite(size_t index, bool prerequisites_ok) {
    const PlannedStep& step = job_.steps[index];
    std::deque<std::string> tail;
    if (!prerequisites_ok) {
      skip(index, fmt::format("{} did not run: {}", step.name, result_.reason));
    } else if (cancelled()) {
      skip(index, "cancelled before it started");
    } else if (remaining() && remaining()->count() == 0) {
      skip(index, fmt::format("{} did not run: the test job's timeout ({}) was reached", step.name,
                              format_duration(job_.timeout)));
    } else {
      execute(index, &tail);
    }
    result_.report.suites.push_back(
        collect_suite_report(step, result_.steps[index], settings_.workspace, tail, *masker_));
  }

  // "suite unit failed" or "suites unit, lint failed": the run's reason when nothing worse happened.
  std::string failed_suites() const {
    std::vector<std::string> names;
    for (const auto& suite : result_.report.suites) {
      if (!suite.passed) names.push_back(suite.suite);
    }
    return fmt::format("{} {} failed", names.size() == 1 ? "suite" : "suites", join(names, ", "));
  }

  void collect_summary(size_t index) {
    std::string summary = read_step_summary(summary_file(index), settings_.workspace, *masker_);
    if (summary.empty()) return;
    if (!result_.report.summary_markdown.empty()) result_.report.summary_markdown += "\n";
    result_.report.summary_markdown += summary;
  }

  bool start_service(size_t index);
  bool wait_until_ready(size_t index, RunningService& service);
  void stop_services();

  const PlannedJob& job_;
  const TestJobSettings& settings_;
  std::shared_ptr<const SecretMasker> masker_;
  TestJobResult result_;
  int64_t deadline_ms_ = 0;
  std::unique_ptr<ContainerPod> pod_;     // image services' containers; outlives the job scope
  std::unique_ptr<JobScope> job_scope_;  // outlives the services, which run inside it
  std::vector<RunningService> services_;
};

bool TestJobRun::start_service(size_t index) {
  const PlannedStep& step = job_.steps[index];
  auto log = begin_logged(index);
  if (!log) return false;
  auto process = step.image.empty()
                     ? settings_.executor->start(command_for(index, step.command, Milliseconds(0)), *log)
                     : pod_->start_service({step.name.substr(step.name.find(':') + 1), step.image, step.service_env,
                                            lower_limits(settings_.limits, job_.limits)},
                                           *log);
  if (!process) {
    std::string reason = fmt::format("service {} could not start: {}", step.name, process.error().message);
    log->write_system_line(reason);
    (void)log->close();
    fail_job(reason);
    finish(index, RunStatus::failed, reason);
    return false;
  }
  services_.push_back({index, std::move(log), std::move(*process)});
  return wait_until_ready(index, services_.back());
}

bool TestJobRun::wait_until_ready(size_t index, RunningService& service) {
  const PlannedStep& step = job_.steps[index];
  int64_t give_up_ms = now_ms() + step.ready_timeout.count();
  LastOutputSink probe_output(masker_);
  while (!step.ready.empty()) {
    if (cancelled()) {
      fail_job("cancelled");
      return false;
    }
    std::string failure;
    if (!service.process->running()) {
      failure = with_limit(fmt::format("service {} exited before it was ready", step.name), "");
    } else if (now_ms() >= give_up_ms || (remaining() && remaining()->count() == 0)) {
      failure = fmt::format("service {} was not ready after {} (ready: {})", step.name,
                            format_duration(step.ready_timeout), step.ready);
    }
    if (!failure.empty()) {
      if (!probe_output.text().empty()) service.log->write_system_line("last readiness check said: " + probe_output.text());
      service.log->write_system_line(failure);
      fail_job(failure);
      result_.steps[index].reason = masker_->mask(failure);
      return false;
    }
    probe_output.clear();
    auto probe = settings_.executor->run(command_for(index, step.ready, kReadyCommandTimeout), probe_output,
                                         settings_.cancel);
    if (probe && probe->succeeded()) break;
    std::this_thread::sleep_for(kReadyPollInterval);
  }
  service.log->write_system_line(fmt::format("service {} is ready", step.name));
  return true;
}

void TestJobRun::stop_services() {
  // In reverse order of start, as a service started later may depend on an earlier one.
  for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
    it->process->stop();
    it->log->write_system_line(fmt::format("service {} stopped", job_.steps[it->index].name));
    (void)it->log->close();
    const std::string& failure = result_.steps[it->index].reason;
    finish(it->index, failure.empty() ? RunStatus::passed : RunStatus::failed, it->log->with_truncation_note(failure));
  }
  services_.clear();
}

}  // namespace

fs::path step_log_dir(const fs::path& log_root, size_t index, const PlannedStep& step) {
  return log_root / fmt::format("{:02}-{}", index + 1, step.name);
}

std::optional<JobRequest> job_network_request(const PlannedJob& job) {
  if (first_image_service(job)) return std::nullopt;
  JobRequest request;
  request.network_none = job.network_none;
  request.has_services = has_services(job);
  return request;
}

TestJobResult run_test_job(const PlannedJob& job, const TestJobSettings& settings) {
  return TestJobRun(job, settings).run();
}

}  // namespace slipway
