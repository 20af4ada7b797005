#include "cd/task_execution.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/secret_masker.h"
#include "base/time.h"
#include "cd/task_log.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A stop() or the timeout is noticed within one slice of waiting.
constexpr Milliseconds kWaitSlice{500};
// How long the Engine may fail to answer while a run is watched before the run is given up.
constexpr Milliseconds kEngineSilence{30'000};
constexpr std::chrono::seconds kStopGrace{10};

struct Outcome {
  TaskRunStatus status;  // succeeded, failed, timed_out or interrupted
  int exit_code = -1;
  std::string reason;
};

Outcome interrupted() { return {TaskRunStatus::interrupted, -1, "the server stopped"}; }

ContainerSpec container_spec(const TaskRunPlan& plan) {
  ContainerSpec spec;
  spec.name = plan.run.container;
  spec.image = plan.revision.pinned_image();
  spec.env = plan.env;
  spec.labels = {{"slipway.owner", plan.owner},
                 {"slipway.task-run", std::to_string(plan.run.id)},
                 {"slipway.task", plan.run.task},
                 {"slipway.environment", plan.run.environment}};
  spec.memory_bytes = plan.revision.memory_bytes;
  spec.nano_cpus = static_cast<int64_t>(std::llround(plan.revision.cpus * 1e9));
  spec.command = plan.revision.command;
  spec.registry_credentials = plan.credentials;
  return spec;
}

// Copies a container's output into the run's log file on its own thread, until the container
// stops (the Engine then ends the followed stream).
class LogFollower {
 public:
  LogFollower(ContainerRuntime& containers, const TaskRunPlan& plan)
      : containers_(containers), container_(plan.run.container), log_path_(plan.run.log_path),
        secrets_(plan.secrets), thread_([this] { follow(); }) {}
  ~LogFollower() { join(); }
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void follow() {
    TaskLogFile file(log_path_, secrets_);
    if (!file.error().empty()) spdlog::warn("task container {}: {}", container_, file.error());
    Status followed = containers_.logs(container_, true, [&](LogStream stream, std::string_view line) {
      file.append(stream, line);
      return true;
    });
    if (!followed) spdlog::warn("task container {}: {}", container_, followed.error().message);
    if (Status closed = file.close(); !closed) spdlog::warn("task container {}: {}", container_, closed.error().message);
  }

  ContainerRuntime& containers_;
  std::string container_;
  std::filesystem::path log_path_;
  std::vector<std::string> secrets_;
  std::thread thread_;  // last: starts once the members it reads are made
};

// The container has stopped with `exit_code`: the Engine says whether the memory limit did it.
Outcome ended(ContainerRuntime& containers, const TaskRunPlan& plan, int exit_code) {
  auto details = containers.inspect(plan.run.container);
  if (details && *details && (*details)->oom_killed) {
    std::string limit = plan.revision.memory_bytes > 0
                            ? " (limit " + memory_size_text(plan.revision.memory_bytes) + ")"
                            : "";
    return {TaskRunStatus::failed, exit_code, "killed: out of memory" + limit};
  }
  return {exit_code == 0 ? TaskRunStatus::succeeded : TaskRunStatus::failed, exit_code, fmt::format("exited with {}", exit_code)};
}

// Stops (or kills) the container; when the Engine refuses, it is removed by force instead, so
// that the log follower's stream ends whatever happens.
void halt(ContainerRuntime& containers, const std::string& container, bool kill) {
  Status halted = kill ? containers.kill(container, "KILL") : containers.stop(container, kStopGrace);
  if (halted && kill) (void)containers.wait(container, Milliseconds(30'000));
  if (halted) return;
  spdlog::warn("task container {}: {}; removing it by force", container, halted.error().message);
  if (Status removed = containers.remove(container, true); !removed) {
    spdlog::warn("task container {}: {}", container, removed.error().message);
  }
}

// Waits for the container to stop, in slices, watching for stop() and the revision's timeout.
Outcome wait_for_exit(ContainerRuntime& containers, const TaskRunPlan& plan, const std::atomic<bool>& stopping) {
  const std::string& name = plan.run.container;
  const int64_t timeout_ms = plan.revision.timeout_ms;
  const auto began = SteadyClock::now();
  auto last_answer = began;
  while (true) {
    if (stopping) {
      halt(containers, name, false);
      return interrupted();
    }
    Milliseconds slice = kWaitSlice;
    if (timeout_ms > 0) {
      auto left = Milliseconds(timeout_ms) - std::chrono::duration_cast<Milliseconds>(SteadyClock::now() - began);
      if (left <= Milliseconds(0)) {
        halt(containers, name, true);
        return {TaskRunStatus::timed_out, -1, "timed out after " + timeout_text(timeout_ms)};
      }
      slice = std::min(slice, left);
    }
    auto slice_began = SteadyClock::now();
    auto code = containers.wait(name, slice);
    if (code) return ended(containers, plan, *code);
    // Usually the slice ran out with the container still running; anything else shows here.
    auto details = containers.inspect(name);
    if (!details) {
      if (SteadyClock::now() - last_answer > kEngineSilence) {
        halt(containers, name, true);
        return {TaskRunStatus::failed, -1, "the Docker Engine stopped answering while the task ran: " + details.error().message};
      }
    } else {
      last_answer = SteadyClock::now();
      if (!*details) return {TaskRunStatus::failed, -1, fmt::format("the container {} was removed while the task ran", name)};
      if ((*details)->ended()) return ended(containers, plan, (*details)->exit_code);
    }
    auto spent = SteadyClock::now() - slice_began;
    if (spent < slice) std::this_thread::sleep_for(slice - spent);  // a wait that failed at once
  }
}

// Creates and starts the container, records "running", and watches it to the end.
Outcome run_container(Store& store, ContainerRuntime& containers, const TaskRunPlan& plan,
                      const std::atomic<bool>& stopping) {
  if (stopping) return interrupted();
  auto created = containers.create(container_spec(plan));
  if (!created) return {TaskRunStatus::failed, -1, created.error().message};
  if (stopping) return interrupted();
  if (Status started = containers.start(plan.run.container); !started) {
    return {TaskRunStatus::failed, -1, started.error().message};
  }
  TaskRunUpdate running;
  running.status = TaskRunStatus::running;
  running.started_ms = now_ms();
  if (Status recorded = update_task_run(store, plan.run.id, running); !recorded) {
    spdlog::error("task run #{}: {}", plan.run.id, recorded.error().message);
  }
  LogFollower follower(containers, plan);
  Outcome outcome = wait_for_exit(containers, plan, stopping);
  follower.join();  // the whole output is in the file before the run reads finished
  return outcome;
}

}  // namespace

std::string memory_size_text(int64_t bytes) {
  constexpr int64_t kMiB = 1024 * 1024;
  constexpr int64_t kGiB = 1024 * kMiB;
  if (bytes >= kGiB && bytes % kGiB == 0) return fmt::format("{} GiB", bytes / kGiB);
  if (bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  if (bytes >= kMiB) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / kMiB);
  return fmt::format("{} bytes", bytes);
}

std::string timeout_text(int64_t timeout_ms) {
  if (timeout_ms % 1000 != 0) return format_duration(Milliseconds(timeout_ms));
  int64_t seconds = timeout_ms / 1000;
  if (seconds < 60 || seconds % 60 != 0) return fmt::format("{}s", seconds);
  if (seconds % 3600 != 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}h", seconds / 3600);
}

TaskRunRecord execute_task_run(Store& store, ContainerRuntime& containers, const TaskRunPlan& plan,
                               const std::atomic<bool>& stopping) {
  Outcome outcome = run_container(store, containers, plan, stopping);
  TaskRunUpdate finished;
  finished.status = outcome.status;
  finished.exit_code = outcome.exit_code;
  // An Engine error may quote what it was given; the reason is shown like the log, so masked too.
  finished.reason = SecretMasker(plan.secrets).mask(outcome.reason);
  finished.finished_ms = now_ms();
  if (Status recorded = update_task_run(store, plan.run.id, finished); !recorded) {
    spdlog::error("task run #{}: {}", plan.run.id, recorded.error().message);
  }
  // Recorded first, removed after: a crash in between leaves a labelled container that start()'s
  // sweep removes, rather than a finished run that reads "interrupted".
  if (Status removed = containers.remove(plan.run.container, true); !removed) {
    spdlog::warn("task run #{}: {}", plan.run.id, removed.error().message);
  }
  auto found = find_task_run(store, plan.run.id);
  if (found && *found) return **found;
  TaskRunRecord run = plan.run;
  run.status = finished.status;
  run.exit_code = finished.exit_code;
  run.reason = finished.reason;
  run.finished_ms = finished.finished_ms;
  return run;
}

}  // namespace slipway
