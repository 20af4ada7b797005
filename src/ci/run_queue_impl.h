// RunQueue's insides, shared by run_queue.cpp (triggers, cancel, rerun: the callers' side) and
// run_queue_workers.cpp (start, recovery, the workers, stop). Private to src/ci/.
//
// The queue's truth is in memory: the line of waiting runs (FIFO by id) and the runs being
// carried out, each with its own cancel flag. The store mirrors it for everyone else to read
// and, after a crash, to rebuild it from. One mutex guards the line, the running map and the
// control Store connection (SQLite connections are one thread's at a time); each worker and the
// poller have their own connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ci/remote_poller.h"
#include "ci/run_queue.h"
#include "store/store.h"

namespace slipway {

// What the queue remembers of a run: enough to order it and to find what it supersedes.
struct QueuedRun {
  int64_t id = 0;
  std::string repository;
  std::string branch;
  std::string trigger;
  int64_t pull_request = 0;  // its number, for a pull request's run
};

struct ActiveRun {
  QueuedRun run;
  std::atomic<bool> cancel{false};  // read by the executors: stops the step's process tree
  std::string cancel_reason;        // guarded by the queue's mutex
};

// One worker's own means: a store connection and executors (executors are not shared between
// threads). Made in start(), so that a machine that cannot sandbox fails start() and not a thread.
struct WorkerTools {
  std::unique_ptr<Store> store;
  std::unique_ptr<Executor> executor;
  // Where this worker keeps its repositories' templates, and whose their files are; none when
  // workspaces cannot be overlays here (not root).
  std::optional<std::filesystem::path> templates;
  uid_t template_owner = 0;
};

struct RunQueue::Impl {
  Impl(DataDirectory data_directory, ServerConfig server_config, QueueServices queue_services);

  DataDirectory data;
  ServerConfig config;
  QueueServices services;  // the publisher and the master key (pods and mirrors below)
  ContainerPods* pods = nullptr;
  RepositoryMirrors* mirrors = nullptr;
  int capacity;               // runs at once
  std::string marker_scope;   // this data directory's step marker scope

  mutable std::mutex mutex;
  std::condition_variable work_ready;
  std::unique_ptr<Store> store;  // the control connection: only under `mutex`
  std::deque<QueuedRun> waiting;
  std::map<int64_t, std::shared_ptr<ActiveRun>> running;
  int idle_workers = 0;
  bool accepting = false;     // between start() and stop()
  bool stopping = false;

  std::vector<std::thread> workers;
  std::unique_ptr<RemotePoller> poller;

  // Callers' side (run_queue.cpp), all with `mutex` held.
  Result<int64_t> add_locked(RunRecord run);
  void supersede_locked(const QueuedRun& newer);
  Status cancel_waiting_locked(std::deque<QueuedRun>::iterator which, const std::string& reason);
  std::string waiting_reason_locked(size_t position) const;
  void refresh_reason_locked(size_t position);

  // Workers' side (run_queue_workers.cpp).
  Status recover();
  Result<std::vector<WorkerTools>> make_worker_tools() const;
  void work(WorkerTools tools);
  RunSettings settings_for(Store& store, const RunRecord& run) const;
  std::shared_ptr<ActiveRun> take_next();
  void carry_out(const WorkerTools& tools, RunExecutor& runner, ActiveRun& active);
  // A remote repository's run: its commit fetched into the mirror and recorded. False when the
  // run ended here (the fetch failed, or the push turned out stale); it is recorded so.
  bool fetch_commit(Store& store, RunRecord& run);
};

// Triggers whose runs a newer run of the same branch supersedes: pushes, seen by webhook or
// by polling. Manual runs (and reruns) are someone's explicit request and are never cancelled.
bool is_superseding_trigger(const std::string& trigger);

}  // namespace slipway
