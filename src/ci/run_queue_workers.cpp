// RunQueue, the workers' side: start-up recovery, the worker threads that carry queued runs
// through RunExecutor, and stop.
#include <set>

#include <fmt/core.h>
#include <spdlog/spdlog.h>


#include "base/strings.h"
#include "base/time.h"
#include "ci/leftover_processes.h"
#include "ci/repository_mirrors.h"
#include "ci/run_events.h"
#include "ci/run_queue_git.h"
#include "ci/run_queue_impl.h"
#include "store/events.h"
#include "store/run_queue_queries.h"
#include "store/secret_store.h"

namespace slipway {

namespace {

// What an interrupted run left in its folder that no one will read: its workspace and the tar
// of an image build's context (the logs and report stay, for people to see what happened).
void remove_run_scratch(const std::filesystem::path& run_dir) {
  unmount_workspace(run_dir / "workspace");  // an overlay outlives the process that mounted it
  std::error_code error;
  for (std::filesystem::directory_iterator entry(run_dir, error), end; !error && entry != end; entry.increment(error)) {
    std::string name = entry->path().filename().string();
    if (name != "workspace" && name != "workspace-layers" && !name.starts_with("slipway-build-context-")) continue;
    std::error_code removal;
    uintmax_t removed = std::filesystem::remove_all(entry->path(), removal);
    if (removal) spdlog::warn("{}: {}", entry->path().string(), removal.message());
    else if (removed > 0) spdlog::info("removed {} left by the previous server ({} files)", entry->path().string(), removed);
  }
}

constexpr std::string_view kRestartedReason = "server restarted";
constexpr std::string_view kStoppingReason = "cancelled: the server stopped";

Result<std::unique_ptr<Executor>> make_step_executor(const std::string& name, const ExecutorOptions& options) {
  if (name == "host") return make_host_executor(options);
  if (name == "sandbox") return make_sandbox_executor(options);
  return make_error(fmt::format("unknown executor '{}' (use sandbox or host)", name));
}

}  // namespace

Status RunQueue::start() {
  Impl& impl = *impl_;
  if (!impl.workers.empty()) return {};
  auto store = Store::open(impl.data.database());
  if (!store) return store.error();
  impl.store = std::move(*store);
  if (Status recovered = impl.recover(); !recovered) return recovered;
  auto tools = impl.make_worker_tools();
  if (!tools) return tools.error();
  become_subreaper();  // daemons that steps fork are re-parented here, to be found and stopped
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    impl.accepting = true;
    impl.stopping = false;
  }
  for (WorkerTools& worker : *tools) {
    impl.workers.emplace_back([&impl, worker = std::move(worker)]() mutable { impl.work(std::move(worker)); });
  }
  RepositoryMirrors* mirrors = impl.mirrors;
  impl.poller = std::make_unique<RemotePoller>(
      impl.data, impl.config.repositories, [this](const TriggerRequest& request) { return enqueue(request); },
      [mirrors](const RepositoryConfig& repository) -> Result<BranchHeads> {
        if (mirrors && mirrors->mirrors(repository.name)) return mirrors->list_heads(repository.name);
        return list_remote_heads(repository.url);
      });
  return impl.poller->start();
}

void RunQueue::stop() {
  Impl& impl = *impl_;
  if (impl.poller) impl.poller->stop();  // first: it enqueues
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    impl.accepting = false;
    impl.stopping = true;
    for (auto& [id, active] : impl.running) {
      if (!active->cancel) active->cancel_reason = std::string(kStoppingReason);
      active->cancel = true;
    }
  }
  impl.work_ready.notify_all();
  for (std::thread& worker : impl.workers) worker.join();
  impl.workers.clear();
}

// What a killed server left: its steps' processes are stopped first (they would otherwise go
// on writing logs and holding ports), then its running runs are failed. Queued runs get back in
// line, in id order, as they were.
Status RunQueue::Impl::recover() {
  int killed = stop_leftover_steps(marker_scope);
  if (killed > 0) spdlog::info("stopped {} leftover step process(es) of the previous server", killed);
  if (pods) {
    // A failure (no Docker Engine here) stops nothing: jobs that need containers will say so.
    if (Status removed = pods->remove_leftovers(); !removed) spdlog::info("service containers: {}", removed.error().message);
  }
  auto interrupted = run_ids_in_status(*store, RunStatus::running);
  if (!interrupted) return interrupted.error();
  for (int64_t id : *interrupted) {
    if (Status failed = fail_interrupted_run(*store, id, std::string(kRestartedReason)); !failed) return failed;
    remove_run_scratch(data.run_dir(id));
    auto run = store->find_run(id);
    if (run && *run) record_run_event(*store, "run.finished", **run);
  }
  std::set<std::string> configured;
  for (const RepositoryConfig& repository : config.repositories) configured.insert(repository.name);
  if (uint64_t freed = remove_unused_templates(data.templates(0).parent_path(), capacity, configured); freed > 0) {
    spdlog::info("removed workspace templates no worker uses any more ({})", format_byte_size(freed));
  }
  auto queued = run_ids_in_status(*store, RunStatus::queued);
  if (!queued) return queued.error();
  std::lock_guard<std::mutex> lock(mutex);
  waiting.clear();
  for (int64_t id : *queued) {
    auto run = store->find_run(id);
    if (!run) return run.error();
    if (*run) waiting.push_back({id, (*run)->repository, (*run)->branch, (*run)->trigger, (*run)->pull_request.number});
  }
  for (size_t position = 0; position < waiting.size(); ++position) refresh_reason_locked(position);
  return {};
}

Result<std::vector<WorkerTools>> RunQueue::Impl::make_worker_tools() const {
  std::vector<WorkerTools> tools;
  for (int i = 0; i < capacity; ++i) {
    WorkerTools worker;
    auto store = Store::open(data.database());
    if (!store) return store.error();
    worker.store = std::move(*store);
    // Each worker's jobs run as a uid of their own: two jobs at once never share one.
    ExecutorOptions options;
    options.job_uid = ExecutorOptions::kFirstJobUid + static_cast<uint32_t>(i);
    options.hidden_paths = {data.root};
    auto executor = make_step_executor(config.executor, options);
    if (!executor) return executor.error();
    worker.executor = std::move(*executor);
    if (workspace_overlays_available()) {
      worker.templates = data.templates(i);
      worker.template_owner = config.executor == "sandbox" ? options.job_uid : ::getuid();
    }
    tools.push_back(std::move(worker));
  }
  return tools;
}

void RunQueue::Impl::work(WorkerTools tools) {
  StepMarkerScope scope(marker_scope);
  RunExecutor runner(data, *tools.store, *tools.executor);
  while (std::shared_ptr<ActiveRun> active = take_next()) {
    carry_out(tools, runner, *active);
    std::lock_guard<std::mutex> lock(mutex);
    running.erase(active->run.id);
  }
}

// The oldest waiting run, now counted as running; null once the queue is stopping.
std::shared_ptr<ActiveRun> RunQueue::Impl::take_next() {
  std::unique_lock<std::mutex> lock(mutex);
  ++idle_workers;
  work_ready.wait(lock, [this] { return stopping || !waiting.empty(); });
  --idle_workers;
  if (stopping) return nullptr;
  auto active = std::make_shared<ActiveRun>();
  active->run = waiting.front();
  waiting.pop_front();
  running.emplace(active->run.id, active);
  // The new front waits for a runner only when no other worker is about to take it.
  if (!waiting.empty() && idle_workers == 0) refresh_reason_locked(0);
  return active;
}

void RunQueue::Impl::carry_out(const WorkerTools& tools, RunExecutor& runner, ActiveRun& active) {
  Store& store = *tools.store;
  auto found = store.find_run(active.run.id);
  if (!found || !*found) {
    spdlog::warn("run #{} vanished from the store before it started", active.run.id);
    return;
  }
  RunRecord run = std::move(**found);
  if (mirrors && mirrors->mirrors(run.repository) && !fetch_commit(store, run)) return;
  record_run_event(store, "run.started", run);
  RunSettings settings = settings_for(store, run);
  // A configured name is a folder name of its own (base/names.h: no '/', never '.' or '..').
  if (tools.templates) {
    settings.workspace_template = WorkspaceTemplate{*tools.templates / run.repository, tools.template_owner};
  }
  settings.cancel_reason = [this, &active] {
    std::lock_guard<std::mutex> lock(mutex);
    return active.cancel_reason;
  };
  auto outcome = runner.execute(run, nullptr, &active.cancel, settings);
  if (!outcome) {
    run.status = RunStatus::failed;
    run.reason = outcome.error().message;
    run.finished_ms = now_ms();
  }
  // The runner recorded the end with its event; a runner that failed outright did not.
  if (!outcome) {
    if (Status recorded = record_run_finished(store, run); !recorded) spdlog::warn("run #{}: {}", run.id, recorded.error().message);
  }
  if (mirrors && mirrors->mirrors(run.repository)) {
    if (Status maintained = mirrors->maintain(run.repository); !maintained) {
      spdlog::warn("repository '{}': {}", run.repository, maintained.error().message);
    }
  }
}

bool RunQueue::Impl::fetch_commit(Store& store, RunRecord& run) {
  (void)set_queued_reason(store, run.id, "fetching");
  // A pull request's commit is on its refs/pull/N/head, not on a branch of the repository.
  auto sha = mirrors->fetch_commit(run.repository, run.commit, run.pull_request.number > 0 ? "" : run.branch);
  std::string ended;
  bool stale = false;
  if (!sha) {
    ended = sha.error().message;
  } else if (run.trigger == "push") {
    // The webhook could not tell a replay from news without asking the remote: the fetch did.
    auto head = resolve_trigger_commit(mirrors->mirror_path(run.repository).string(), "", run.branch);
    if (head && *head != *sha) {
      stale = true;
      ended = fmt::format("stale push: branch '{}' is at {} now, not at {}", run.branch, head->substr(0, 12),
                          sha->substr(0, 12));
    }
  }
  if (ended.empty()) {
    run.commit = *sha;
    if (Status recorded = set_queued_commit(store, run.id, run.commit); !recorded) ended = recorded.error().message;
  }
  if (ended.empty()) return true;
  run.status = stale ? RunStatus::cancelled : RunStatus::failed;
  run.reason = ended;
  run.finished_ms = now_ms();
  if (Status recorded = record_run_finished(store, run); !recorded) spdlog::warn("run #{}: {}", run.id, recorded.error().message);
  return false;
}

// Pushes (and polls) publish to the environments that publish on main; a manual run to the ones
// it names; a schedule tests only. expand_plan enforces the rest (production only from main).
RunSettings RunQueue::Impl::settings_for(Store& store, const RunRecord& run) const {
  RunSettings settings;
  settings.max_log_bytes = config.max_log_bytes;
  PlanRequest plan;
  plan.trigger = run.trigger == "manual" ? Trigger::manual : run.trigger == "schedule" ? Trigger::schedule : Trigger::push;
  if (const RepositoryConfig* repository = config.find_repository(run.repository)) {
    plan.main_branch = repository->main_branch;
    // The Docker Engine is root on the host: never for code from a fork (docs/security.md).
    settings.docker = repository->docker && !run.pull_request.fork;
    if (run.pull_request.number > 0 && repository->test_pull_requests_merged) settings.merge_branch = run.pull_request.target;
  }
  if (!run.environments.empty()) plan.environments = split(run.environments, ',');
  plan.policies = config.policies();
  // A pull request's code is not reviewed yet: it is tested, never published.
  plan.test_only = services.publisher == nullptr || run.pull_request.number > 0;
  settings.plan = plan;
  settings.limits = config.limits;
  settings.publisher = services.publisher;
  settings.pods = pods;
  if (run.pull_request.fork) {
    // Anyone can open one: the fork's code would run with whatever it is given (docs/forges.md).
    settings.note = "a pull request from a fork gets no secrets";
  } else if (!services.master_key.empty()) {
    settings.secrets_for = [&store, key = services.master_key, repository = run.repository](const std::string& environment) {
      return SecretStore(store, key).resolve(repository, environment);
    };
  }
  return settings;
}

}  // namespace slipway
