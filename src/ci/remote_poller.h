// RemotePoller: the backstop for webhooks that never arrived. A thread that, for each
// repository with a poll interval, lists the remote's branch heads (`git ls-remote --heads`),
// compares them with the heads it recorded last time (store/remote_heads.h) and triggers a
// "poll" run for each branch whose head changed or appeared. The run queue drops a poll for a
// commit a webhook already queued on that branch.
//
// The first time a repository is polled, its heads are recorded and nothing runs: adding a
// repository with fifty branches must not start fifty runs. The recorded heads are durable, so
// commits pushed while the server was down differ from them and do run at the first poll after
// a restart — which happens at once on start(), not one interval later.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/result.h"
#include "ci/run_executor.h"
#include "spec/server_config.h"
#include "store/remote_heads.h"
#include "store/store.h"

namespace slipway {

struct TriggerRequest;  // ci/run_queue.h

class RemotePoller {
 public:
  using Trigger = std::function<Result<int64_t>(const TriggerRequest&)>;
  // The remote's branch heads: `git ls-remote` of the URL, or of a mirror's remote with its
  // credentials (ci/repository_mirrors.h).
  using ListHeads = std::function<Result<BranchHeads>(const RepositoryConfig&)>;

  RemotePoller(DataDirectory data, std::vector<RepositoryConfig> repositories, Trigger trigger, ListHeads list_heads);
  ~RemotePoller();  // stop()s

  // Opens the poller's own store connection and starts the thread (none when no repository
  // polls). Error when the store cannot be opened.
  Status start();
  // Wakes the thread and joins it; a git command in flight is let finish.
  void stop();

  // One look at one repository, in the calling thread: what the thread does on each tick.
  // Returns how many runs it triggered. Error when the remote cannot be listed. Without
  // `list_heads`, the URL is listed as it is.
  static Result<int> poll_repository(Store& store, const RepositoryConfig& repository,
                                     const Trigger& trigger, const ListHeads& list_heads = {});

 private:
  void loop();

  DataDirectory data_;
  std::vector<RepositoryConfig> repositories_;
  Trigger trigger_;
  ListHeads list_heads_;
  std::unique_ptr<Store> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slipway
