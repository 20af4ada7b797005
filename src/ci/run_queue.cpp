// RunQueue, the callers' side: triggers become queued runs, cancels and reruns, and the reasons
// that say why each queued run waits. Workers, recovery and stop are in run_queue_workers.cpp.
#include "ci/run_queue.h"

#include <fmt/core.h>

#include <algorithm>
#include <thread>

#include "base/strings.h"
#include "base/time.h"
#include "ci/leftover_processes.h"
#include "ci/repository_mirrors.h"
#include "ci/run_events.h"
#include "ci/run_queue_git.h"
#include "ci/run_queue_impl.h"
#include "store/events.h"
#include "store/run_queue_queries.h"
#include "store/sqlite_database.h"

namespace slipway {

namespace {

// A poll finding a head that a webhook (or an earlier poll) already queued a run for within
// this window is the same push seen twice. Generous, so that a server down for hours between
// the webhook and the poll still recognises it.
constexpr int64_t kPollDedupeWindowMs = 24 * 60 * 60 * 1000;

std::string join_environments(const std::vector<std::string>& environments) {
  std::string joined;
  for (const auto& name : environments) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

}  // namespace

bool is_superseding_trigger(const std::string& trigger) {
  return trigger == "push" || trigger == "poll" || trigger == "pull_request";
}

RunQueue::Impl::Impl(DataDirectory data_directory, ServerConfig server_config, QueueServices queue_services)
    : data(std::move(data_directory)),
      config(std::move(server_config)),
      services(std::move(queue_services)),
      pods(services.pods),
      mirrors(services.mirrors),
      capacity(config.concurrency > 0 ? config.concurrency
                                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      marker_scope(marker_scope_for(data.root)) {}

RunQueue::RunQueue(DataDirectory data, ServerConfig config, QueueServices services)
    : impl_(std::make_unique<Impl>(std::move(data), std::move(config), std::move(services))) {}

RunQueue::~RunQueue() { stop(); }

Result<int64_t> RunQueue::enqueue(const TriggerRequest& request) {
  const RepositoryConfig* repository = impl_->config.find_repository(request.repository);
  if (!repository) {
    return make_error(fmt::format("unknown repository '{}' (configured: {})", request.repository,
                                  impl_->config.repository_names()));
  }
  std::string branch = request.branch.empty() ? repository->main_branch : request.branch;
  if (Status valid = check_branch_name(branch); !valid) return valid.error();
  bool pull_request = request.pull_request.number > 0;
  if (pull_request && request.commit.empty()) return make_error("a pull request's run needs its head commit");
  // A pull request's commit need not be on any branch here (a fork's is not): only present.
  std::string on_branch = pull_request ? "" : branch;
  RunRecord run;
  bool remote = impl_->mirrors && impl_->mirrors->mirrors(repository->name);
  if (remote) {
    // The commit is resolved by the worker, after a fetch; a trigger only waits to be stored.
    run.source = impl_->mirrors->mirror_path(repository->name).string();
    run.commit = request.commit;
  } else {
    // git runs outside the lock: a slow repository must not hold up every other caller.
    auto commit = resolve_trigger_commit(repository->url, request.commit, on_branch);
    if (!commit) return commit.error();
    run.source = std::filesystem::absolute(repository_path(repository->url)).lexically_normal().string();
    run.commit = *commit;
  }
  run.repository = repository->name;
  run.branch = branch;
  run.trigger = request.trigger;
  run.environments = pull_request ? "" : join_environments(request.environments);
  run.pull_request = request.pull_request;
  run.created_ms = now_ms();

  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->accepting) return make_error("the run queue is not running (the server is starting or stopping)");
  if (run.trigger == "poll") {
    auto seen = find_recent_run(*impl_->store, run.repository, branch, run.commit, run.created_ms - kPollDedupeWindowMs);
    if (!seen) return seen.error();
    if (*seen) return **seen;
  }
  return impl_->add_locked(std::move(run));
}

Status RunQueue::cancel(int64_t run_id, const std::string& reason) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto& waiting = impl_->waiting;
  auto queued = std::find_if(waiting.begin(), waiting.end(), [&](const QueuedRun& q) { return q.id == run_id; });
  if (queued != waiting.end()) return impl_->cancel_waiting_locked(queued, reason);
  if (auto active = impl_->running.find(run_id); active != impl_->running.end()) {
    if (!active->second->cancel) active->second->cancel_reason = reason;
    active->second->cancel = true;  // the worker stops the step and records "cancelled"
    return {};
  }
  if (!impl_->store) return make_error("the run queue is not running");
  auto found = impl_->store->find_run(run_id);
  if (!found) return found.error();
  if (!*found) return make_error(fmt::format("no run #{}", run_id));
  return make_error(fmt::format("run #{} is already {}: only queued or running runs can be cancelled",
                                run_id, to_text((*found)->status)));
}

Result<int64_t> RunQueue::rerun(int64_t run_id) {
  std::optional<RunRecord> original;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (!impl_->store) return make_error("the run queue is not running");
    auto found = impl_->store->find_run(run_id);
    if (!found) return found.error();
    original = std::move(*found);
  }
  if (!original) return make_error(fmt::format("no run #{}", run_id));
  // A rerun is someone's explicit request: "manual", so no newer push supersedes it and it
  // supersedes nothing itself.
  TriggerRequest request{original->repository, original->commit, original->branch, "manual", {}};
  if (!original->environments.empty()) request.environments = split(original->environments, ',');
  return enqueue(request);
}

int RunQueue::cancel_pull_request(const std::string& repository, int64_t number, const std::string& reason) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto of_it = [&](const QueuedRun& run) { return run.repository == repository && run.pull_request == number; };
  int cancelled = 0;
  auto& waiting = impl_->waiting;
  for (auto it = std::find_if(waiting.begin(), waiting.end(), of_it); it != waiting.end();
       it = std::find_if(waiting.begin(), waiting.end(), of_it)) {
    (void)impl_->cancel_waiting_locked(it, reason);  // a failed write: the run still leaves the line
    ++cancelled;
  }
  for (auto& [id, active] : impl_->running) {
    if (!of_it(active->run) || active->cancel) continue;
    active->cancel_reason = reason;
    active->cancel = true;
    ++cancelled;
  }
  return cancelled;
}

QueueStats RunQueue::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return QueueStats{static_cast<int>(impl_->waiting.size()), static_cast<int>(impl_->running.size()),
                    impl_->capacity};
}

// Records the run as queued (with its "run.queued" event, in one transaction), puts it at the
// end of the line, cancels what it supersedes and wakes a worker.
Result<int64_t> RunQueue::Impl::add_locked(RunRecord run) {
  run.status = RunStatus::queued;
  run.reason = waiting_reason_locked(waiting.size());
  Database& db = store->database();
  Status recorded = db.transaction([&]() -> Status {
    auto id = store->create_run(run);
    if (!id) return id.error();
    run.id = *id;
    auto event = append_event(*store, run_event("run.queued", run));
    if (!event) return event.error();
    return {};
  });
  if (!recorded) return recorded.error();
  QueuedRun queued{run.id, run.repository, run.branch, run.trigger, run.pull_request.number};
  waiting.push_back(queued);
  if (config.cancel_superseded) supersede_locked(queued);
  work_ready.notify_one();
  return run.id;
}

// Cancels the older queued and running runs of the newer run's repository and branch.
void RunQueue::Impl::supersede_locked(const QueuedRun& newer) {
  if (!is_superseding_trigger(newer.trigger)) return;
  auto superseded = [&](const QueuedRun& older) {
    if (older.id >= newer.id || older.repository != newer.repository || older.trigger == "manual") return false;
    if (newer.pull_request > 0) return older.pull_request == newer.pull_request;
    return older.branch == newer.branch && is_superseding_trigger(older.trigger) && older.pull_request == 0;
  };
  const std::string reason = fmt::format("superseded by run #{}", newer.id);
  std::vector<int64_t> older;
  for (const QueuedRun& queued : waiting) {
    if (superseded(queued)) older.push_back(queued.id);
  }
  for (int64_t id : older) {
    auto it = std::find_if(waiting.begin(), waiting.end(), [&](const QueuedRun& q) { return q.id == id; });
    // A failed store write leaves the run "queued" in the store, to be cancelled by hand; it
    // still leaves the line, as superseded.
    (void)cancel_waiting_locked(it, reason);
  }
  for (auto& [id, active] : running) {
    if (!superseded(active->run) || active->cancel) continue;
    active->cancel_reason = reason;
    active->cancel = true;
  }
}

// The run leaves the line, is recorded "cancelled", and the run behind it learns what it now
// waits for.
Status RunQueue::Impl::cancel_waiting_locked(std::deque<QueuedRun>::iterator which, const std::string& reason) {
  size_t position = static_cast<size_t>(which - waiting.begin());
  QueuedRun run = *which;
  waiting.erase(which);
  if (position < waiting.size()) refresh_reason_locked(position);
  auto cancelled = cancel_queued_run(*store, run.id, reason);
  if (!cancelled) return cancelled.error();
  RunRecord record{.id = run.id, .repository = run.repository, .branch = run.branch, .trigger = run.trigger,
                   .status = RunStatus::cancelled, .reason = reason};
  auto event = append_event(*store, run_event("run.finished", record));
  if (!event) return event.error();
  return {};
}

// Why the run at `position` in the line waits. Each run names only the one just ahead of it,
// so when the line moves, only the run that moved up to the front (or behind a cancelled one)
// needs a new reason: one store write, not one per waiting run.
std::string RunQueue::Impl::waiting_reason_locked(size_t position) const {
  if (position > 0) return fmt::format("queued behind run #{}", waiting[position - 1].id);
  size_t busy = running.size();
  if (busy >= static_cast<size_t>(capacity)) {
    return fmt::format("waiting for a free runner ({} of {} busy)", busy, capacity);
  }
  return fmt::format("starting ({} of {} runners busy)", busy, capacity);
}

void RunQueue::Impl::refresh_reason_locked(size_t position) {
  // The reason is for people to read; a failed write leaves a stale one, nothing worse.
  (void)set_queued_reason(*store, waiting[position].id, waiting_reason_locked(position));
}

}  // namespace slipway
