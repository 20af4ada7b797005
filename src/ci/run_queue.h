// RunQueue: the server's runs, from trigger to result. enqueue() records a run as "queued"
// (its commit resolved) and returns at once; worker threads take queued runs first in, first
// out, at most `concurrency` at a time, and carry each through RunExecutor: Test, then Publish
// per the server's environments (staging and production on a push to main, the requested ones
// on a manual trigger). Every
// queued run's `reason` says why it waits. A newer push to a branch cancels the branch's older
// queued or running run (when configured). On start(), recovery: runs left "running" by a
// killed server are marked failed ("server restarted") and their leftover processes stopped;
// runs still "queued" simply continue. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "ci/run_executor.h"
#include "spec/server_config.h"

namespace slipway { class RepositoryMirrors; }

namespace slipway {

struct TriggerRequest {
  std::string repository;                 // a configured repository's name
  std::string commit;                     // a sha; "" = the head of `branch` (or of main)
  std::string branch;                     // "" = the repository's main branch
  std::string trigger = "manual";         // "push", "manual", "schedule", "poll"
  std::vector<std::string> environments;  // manual publish targets
  // trigger "pull_request": the one it tests (number > 0). Its run tests `commit` (required: the
  // request's head) and never publishes; `branch` is the request's source branch, for people to
  // read; a fork's gets no secrets at all.
  PullRequestInfo pull_request;
};

struct QueueStats {
  int queued = 0;
  int running = 0;
  int concurrency = 0;
};

// What the server lends the queue, all given at construction (each must outlive the queue):
struct QueueServices {
  // Without a publisher, runs stop after their test job. Shared by the workers: thread-safe.
  Publisher* publisher = nullptr;
  std::string master_key;            // opens the secret store; "" = no secrets at all
  // Where `image:` services' containers come from (shared by the workers, so thread-safe);
  // without it such a job fails saying so. Its leftovers are removed at start().
  ContainerPods* pods = nullptr;
  // Where remote repositories' commits come from (ci/repository_mirrors.h); without it a remote
  // repository's trigger is refused. A remote repository's run waits "queued" until a worker
  // has fetched its commit ("fetching from URL"); a failed fetch fails the run with the fetch's
  // diagnosis; a push whose commit is no longer its branch's head after the fetch (a replay) is
  // cancelled as stale.
  RepositoryMirrors* mirrors = nullptr;
};

class RunQueue {
 public:
  RunQueue(DataDirectory data, ServerConfig config, QueueServices services = {});
  ~RunQueue();  // stop()s

  // Recovery, then the workers. Error when the store cannot be opened or recovered.
  Status start();
  // Stops the poller, refuses new triggers, cancels the running runs (their steps' process
  // trees are stopped; they are recorded "cancelled: the server stopped") and joins the
  // workers. Queued runs stay queued for the next start(). Idempotent.
  void stop();

  // Errors: unknown repository (the message lists the known ones), a branch name git would
  // refuse, unknown commit or branch, a pull request without its commit, the queue not started.
  // A newer run of a pull request supersedes its older queued or running ones. A "poll" trigger for a commit that
  // already has a run on that branch (created in the last 24 h) returns that run's id.
  Result<int64_t> enqueue(const TriggerRequest& request);
  // A queued run becomes "cancelled" at once; a running one is cancelled (its step's process
  // tree stopped) and recorded "cancelled". Error when the run does not exist or is finished.
  Status cancel(int64_t run_id, const std::string& reason = "cancelled by request");
  // A new run of the same repository, commit, branch and environments.
  Result<int64_t> rerun(int64_t run_id);
  // A closed pull request: its queued and running runs are cancelled. Returns how many.
  int cancel_pull_request(const std::string& repository, int64_t number, const std::string& reason);

  QueueStats stats() const;

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
