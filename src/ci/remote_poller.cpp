#include "ci/remote_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/time.h"
#include "base/worker_stop.h"
#include "ci/run_queue.h"
#include "ci/run_queue_git.h"
#include "store/remote_heads.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Triggers a run for each branch of `now` whose head differs from `before`. A branch whose run
// could not be triggered keeps its old head in the returned map, so the next poll tries again.
BranchHeads trigger_changed(const RepositoryConfig& repository, const BranchHeads& before,
                            const BranchHeads& now, const RemotePoller::Trigger& trigger, int& triggered) {
  BranchHeads recorded = now;
  for (const auto& [branch, sha] : now) {
    auto old = before.find(branch);
    if (old != before.end() && old->second == sha) continue;
    TriggerRequest request{repository.name, sha, branch, "poll", {}};
    if (auto run = trigger(request); run) {
      ++triggered;
    } else {
      spdlog::warn("poll of {}: branch {}: {}", repository.name, branch, run.error().message);
      if (old != before.end()) recorded[branch] = old->second; else recorded.erase(branch);
    }
  }
  return recorded;
}

}  // namespace

RemotePoller::RemotePoller(DataDirectory data, std::vector<RepositoryConfig> repositories, Trigger trigger,
                           ListHeads list_heads)
    : data_(std::move(data)),
      repositories_(std::move(repositories)),
      trigger_(std::move(trigger)),
      list_heads_(std::move(list_heads)) {
  std::erase_if(repositories_, [](const RepositoryConfig& r) { return r.poll_interval <= Milliseconds(0); });
}

RemotePoller::~RemotePoller() { stop(); }

Status RemotePoller::start() {
  if (repositories_.empty() || thread_.joinable()) return {};
  auto store = Store::open(data_.database());
  if (!store) return store.error();
  store_ = std::move(*store);
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
  return {};
}

void RemotePoller::stop() { stop_worker(mutex_, wake_, stopping_, thread_); }

Result<int> RemotePoller::poll_repository(Store& store, const RepositoryConfig& repository, const Trigger& trigger,
                                          const ListHeads& list_heads) {
  auto now = list_heads ? list_heads(repository) : list_remote_heads(repository.url);
  if (!now) return now.error();
  auto before = load_remote_heads(store, repository.name);
  if (!before) return before.error();
  int triggered = 0;
  BranchHeads recorded = before->seen ? trigger_changed(repository, before->heads, *now, trigger, triggered) : *now;
  if (Status saved = save_remote_heads(store, repository.name, recorded, now_ms()); !saved) return saved.error();
  return triggered;
}

// Each repository is due at its own interval; the thread sleeps until the earliest is due.
void RemotePoller::loop() {
  std::vector<SteadyClock::time_point> due(repositories_.size(), SteadyClock::now());
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    for (size_t i = 0; i < repositories_.size(); ++i) {
      if (SteadyClock::now() < due[i]) continue;
      lock.unlock();  // stop() must not wait behind a poll for the lock, only for the join
      if (auto polled = poll_repository(*store_, repositories_[i], trigger_, list_heads_); !polled) {
        spdlog::warn("poll of {}: {}", repositories_[i].name, polled.error().message);
      }
      lock.lock();
      due[i] = SteadyClock::now() + repositories_[i].poll_interval;
      if (stopping_) return;
    }
    wake_.wait_until(lock, *std::min_element(due.begin(), due.end()), [this] { return stopping_; });
  }
}

}  // namespace slipway
