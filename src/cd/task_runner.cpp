#include "cd/task_runner.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "cd/container_names.h"
#include "spec/environment_secrets.h"
#include "cd/task_execution.h"
#include "cd/task_log.h"
#include "spec/spec_values.h"

namespace slipway {

namespace {


}  // namespace

std::string task_container_name(const std::string& task, const std::string& environment, const std::string& owner,
                                int64_t run_id) {
  return engine_container_name({"task", task, environment, owner_tag(owner), std::to_string(run_id)});
}

// A run of this process: its thread, and whether it has finished (under Impl::mutex).
struct ActiveTaskRun {
  int64_t id = 0;
  bool finished = false;
  std::thread thread;
};

struct TaskRunner::Impl {
  TaskRunnerOptions options;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int64_t, std::shared_ptr<ActiveTaskRun>> runs;
  std::atomic<bool> stopping{false};
  std::unique_ptr<Store> store;  // for trigger(), start() and wait(), under mutex

  explicit Impl(TaskRunnerOptions o) : options(std::move(o)) {}

  Result<Store*> open_store();  // under mutex
  Result<TaskRevisionRecord> find_revision(Store& store, const TaskRunRequest& request);
  Result<TaskRunPlan> plan(Store& store, const TaskRunRequest& request);
  Status record_queued(Store& store, TaskRunPlan& plan);
  void execute(std::shared_ptr<ActiveTaskRun> active, TaskRunPlan plan);
  void reap_finished();  // under mutex
  Status recover(Store& store);
  void remove_leftover_containers();
};

Result<Store*> TaskRunner::Impl::open_store() {
  if (!store) {
    auto opened = Store::open(options.database);
    if (!opened) return opened.error();
    store = std::move(*opened);
  }
  return store.get();
}

Result<TaskRevisionRecord> TaskRunner::Impl::find_revision(Store& store, const TaskRunRequest& request) {
  auto found = request.revision == 0 ? active_task_revision(store, request.environment, request.task)
                                     : find_task_revision(store, request.environment, request.task, request.revision);
  if (!found) return found.error();
  if (!*found) {
    if (request.revision == 0) {
      return make_error(ErrorKind::not_found,
                        fmt::format("no task {} in {} (slipway task list)", request.task, request.environment));
    }
    return make_error(ErrorKind::not_found,
                      fmt::format("task {} has no revision {} in {}", request.task, request.revision, request.environment));
  }
  if ((*found)->digest.empty()) {
    return make_error(ErrorKind::conflict,
                      fmt::format("task {} in {} has no image yet: push its image first", request.task, request.environment));
  }
  return **found;
}

// Every check that can fail before anything is recorded: the revision, the overrides, the secrets.
Result<TaskRunPlan> TaskRunner::Impl::plan(Store& store, const TaskRunRequest& request) {
  if (request.task.empty() || request.environment.empty()) {
    return make_error(ErrorKind::invalid_input,
                      "a task run needs a task and an environment: slipway task run NAME --environment ENV");
  }
  auto revision = find_revision(store, request);
  if (!revision) return revision.error();
  const TaskRevisionRecord& definition = *revision;
  std::set<std::string> secret_names(definition.secrets.begin(), definition.secrets.end());
  for (const auto& [name, value] : request.env) {
    if (!is_valid_variable_name(name)) {
      return make_error(ErrorKind::invalid_input, fmt::format("--env {}: '{}' is not a valid variable name (letters, digits and '_', not "
                                    "starting with a digit)",
                                    name, name));
    }
    if (secret_names.count(name)) {
      return make_error(ErrorKind::invalid_input, fmt::format("--env {}: {} is a secret of task {}; a run cannot override it (slipway secret "
                                    "set {} {} {})",
                                    name, name, request.task, definition.repository, request.environment, name));
    }
  }
  auto environment = options.resolve(definition.repository, request.environment);
  if (!environment) return environment.error();
  TaskRunPlan plan;
  plan.revision = definition;
  plan.credentials = environment->credentials;
  plan.owner = options.owner;
  plan.env = definition.env;
  for (const auto& [name, value] : request.env) plan.env[name] = value;
  EnvironmentSecrets available(environment->secrets, definition.repository, request.environment);
  for (const std::string& name : definition.secrets) {
    auto value = available.require(name, "task " + request.task);
    if (!value) return value.error();
    plan.env[name] = *value;  // only the secrets the definition names
    plan.secrets.push_back(*value);
  }
  plan.run.environment = request.environment;
  plan.run.task = request.task;
  plan.run.revision_id = definition.id;
  plan.run.revision = definition.revision;
  plan.run.trigger = request.trigger;
  plan.run.env = request.env;
  plan.run.created_ms = now_ms();
  return plan;
}

// "queued", then its container's name and log file written before either exists, so that a
// restart knows what to look for.
Status TaskRunner::Impl::record_queued(Store& store, TaskRunPlan& plan) {
  auto id = create_task_run(store, plan.run);
  if (!id) return id.error();
  plan.run.id = *id;
  plan.run.container = task_container_name(plan.run.task, plan.run.environment, options.owner, *id);
  plan.run.log_path = (options.runs_directory / std::to_string(*id) / "log").string();
  TaskRunUpdate named;
  named.status = TaskRunStatus::queued;
  named.container = plan.run.container;
  named.log_path = plan.run.log_path;
  Status log = create_task_log(plan.run.log_path);
  if (!log) {  // nothing can run without a place for its output: the run ends before it starts
    named.status = TaskRunStatus::failed;
    named.reason = "cannot create the run's log file: " + log.error().message;
    named.finished_ms = now_ms();
  }
  if (Status written = update_task_run(store, *id, named); !written) return written;
  return log;
}

void TaskRunner::Impl::execute(std::shared_ptr<ActiveTaskRun> active, TaskRunPlan plan) {
  std::optional<TaskRunRecord> finished;
  auto store = Store::open(options.database);
  if (store) {
    finished = execute_task_run(**store, *options.containers, plan, stopping);
  } else {
    // Nothing was started: the run ends "failed", recorded through the runner's own connection.
    std::string reason = "cannot open the store for the run: " + store.error().message;
    spdlog::error("task run #{} of {} in {}: {}", plan.run.id, plan.run.task, plan.run.environment, reason);
    std::lock_guard lock(mutex);
    auto shared = open_store();
    if (shared) (void)update_task_run(**shared, plan.run.id, {TaskRunStatus::failed, -1, reason, "", "", 0, now_ms()});
  }
  if (finished && options.on_finished) {
    try {
      options.on_finished(*finished);
    } catch (const std::exception& error) {
      spdlog::error("task run #{}: the finish notice failed: {}", plan.run.id, error.what());
    }
  }
  std::lock_guard lock(mutex);
  active->finished = true;
  changed.notify_all();
}

void TaskRunner::Impl::reap_finished() {
  for (auto it = runs.begin(); it != runs.end();) {
    if (!it->second->finished) {
      ++it;
      continue;
    }
    if (it->second->thread.joinable()) it->second->thread.join();  // it has only to return
    it = runs.erase(it);
  }
}

// Runs a previous server left queued or running (none of them is this process's).
Status TaskRunner::Impl::recover(Store& store) {
  auto unfinished = unfinished_task_runs(store);
  if (!unfinished) return unfinished.error();
  for (const TaskRunRecord& run : *unfinished) {
    if (runs.count(run.id)) continue;
    std::string container = run.container.empty()
                                ? task_container_name(run.task, run.environment, options.owner, run.id)
                                : run.container;
    if (Status removed = options.containers->remove(container, true); !removed) {
      spdlog::warn("task run #{}: {}", run.id, removed.error().message);
    }
    TaskRunUpdate update;
    update.status = TaskRunStatus::interrupted;
    update.reason = "the server restarted";
    update.finished_ms = now_ms();
    if (Status written = update_task_run(store, run.id, update); !written) {
      spdlog::error("task run #{}: {}", run.id, written.error().message);
    } else {
      spdlog::info("task run #{} of {} in {} was cut off by a restart: marked interrupted", run.id, run.task,
                   run.environment);
    }
  }
  return {};
}

// Any container of this server's task runs that no run of this process accounts for: what a
// crash left behind (a run already recorded finished, or a run record never written).
void TaskRunner::Impl::remove_leftover_containers() {
  auto labelled = options.containers->list({{"slipway.owner", options.owner}, {"slipway.task-run", ""}});
  if (!labelled) {
    spdlog::warn("task runs: {}", labelled.error().message);
    return;
  }
  for (const ContainerSummary& container : *labelled) {
    auto label = container.labels.find("slipway.task-run");
    int64_t id = 0;
    if (label != container.labels.end()) id = std::strtoll(label->second.c_str(), nullptr, 10);
    if (id != 0 && runs.count(id)) continue;
    spdlog::info("removing container {}: no running task run accounts for it", container.name);
    if (Status removed = options.containers->remove(container.name, true); !removed) {
      spdlog::warn("task runs: {}", removed.error().message);
    }
  }
}

TaskRunner::TaskRunner(TaskRunnerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

TaskRunner::~TaskRunner() { stop(); }

Status TaskRunner::start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (!s.options.containers) return make_error("the task runner needs a container runtime");
  s.stopping = false;
  auto store = s.open_store();
  if (!store) return store.error();
  if (Status recovered = s.recover(**store); !recovered) return recovered;
  s.remove_leftover_containers();
  return {};
}

void TaskRunner::stop() {
  Impl& s = *impl_;
  std::vector<std::shared_ptr<ActiveTaskRun>> joining;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
    for (auto& [id, run] : s.runs) joining.push_back(run);
  }
  s.changed.notify_all();
  // Each run stops its own container (it looks at `stopping` twice a second), so they stop together.
  for (auto& run : joining) {
    if (run->thread.joinable()) run->thread.join();
  }
  std::lock_guard lock(s.mutex);
  for (auto& run : joining) s.runs.erase(run->id);
  s.store.reset();
}

Result<TaskRunRecord> TaskRunner::trigger(const TaskRunRequest& request) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (s.stopping) return make_error("the task runner is stopped: the server is shutting down");
  if (!s.options.containers || !s.options.resolve) {
    return make_error("the task runner needs a container runtime and a secret resolver");
  }
  s.reap_finished();
  auto store = s.open_store();
  if (!store) return store.error();
  auto plan = s.plan(**store, request);
  if (!plan) return plan.error();
  if (Status recorded = s.record_queued(**store, *plan); !recorded) return recorded.error();
  auto active = std::make_shared<ActiveTaskRun>();
  active->id = plan->run.id;
  s.runs[active->id] = active;
  TaskRunRecord queued = plan->run;
  try {
    active->thread = std::thread([&s, active, run = std::move(*plan)]() mutable { s.execute(active, std::move(run)); });
  } catch (const std::system_error& error) {  // no thread to be had: the run ends here, said so
    s.runs.erase(active->id);
    std::string reason = fmt::format("cannot start a thread for the run: {}", error.what());
    (void)update_task_run(**store, queued.id, {TaskRunStatus::failed, -1, reason, "", "", 0, now_ms()});
    return make_error(fmt::format("task run #{} of {} in {}: {}", queued.id, queued.task, queued.environment, reason));
  }
  auto found = find_task_run(**store, queued.id);
  if (found && *found) return **found;
  return queued;
}

bool TaskRunner::wait(int64_t run_id, Milliseconds timeout) {
  Impl& s = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(s.mutex);
  if (auto it = s.runs.find(run_id); it != s.runs.end()) {
    std::shared_ptr<ActiveTaskRun> run = it->second;
    return s.changed.wait_until(lock, deadline, [&] { return run->finished; });
  }
  // Not a run of this process: its record says.
  while (true) {
    auto store = s.open_store();
    if (!store) return false;
    auto found = find_task_run(**store, run_id);
    if (!found || !*found) return false;
    if (is_finished((*found)->status)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    s.changed.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + Milliseconds(200)));
  }
}

}  // namespace slipway
