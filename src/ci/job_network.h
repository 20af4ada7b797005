// JobNetwork: the network namespace one job's steps and services share, and the pool that lets
// the next job reuse it.
//
// A namespace is made by the server itself (base/network_namespace.h: a thread's unshare, its
// loopback set up, no program) and held by a descriptor; steps enter it (setns, base/child_process.h's
// ProcessEntry). With `outbound`, slirp4netns gives it a NATed way out (never to the host's
// loopback). Making one costs a program and a wait for slirp4netns's route, and tearing
// slirp4netns down as much again — most of a no-op job's cost — so a finished job hands its
// namespace back to the pool and the next job with the same network mode takes it.
//
// Why reuse is safe: a namespace goes back only when no process of its job can be alive (the
// job's cgroup emptied, or every step's PID namespace ended). What a namespace could carry over
// then is what processes without CAP_NET_ADMIN over it can leave behind — nothing: its owner is
// the server's user namespace, not one of the job's: the job's uid, capability-less in user
// namespaces of its own beside it, can change no address, route, rule or sysctl, and its sockets
// (TCP, UDP, abstract Unix) closed with its processes. docs/security.md says so.
//
// Lifetimes: a namespace ends with its descriptor (and the last process in it), slirp4netns with
// its stdin lifeline, so neither outlives the server, even after kill -9. A pooled namespace
// whose slirp4netns has ended is dropped when taken, never handed out.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway {

class JobNetwork {
 public:
  // Makes a namespace and, for `outbound`, starts slirp4netns; returns once the namespace is
  // ready (its loopback up and, for outbound, a default route). Errors say which step failed.
  static Result<std::unique_ptr<JobNetwork>> create(bool outbound);
  // The namespace of a process someone else owns (a service container pod's holder), given a
  // way out for `outbound`. Never pooled: it lives and ends with its owner.
  static Result<std::unique_ptr<JobNetwork>> join(pid_t pid, bool outbound);
  ~JobNetwork();  // stops slirp4netns and lets the namespace go
  JobNetwork(const JobNetwork&) = delete;
  JobNetwork& operator=(const JobNetwork&) = delete;

  // What steps enter (ProcessEntry::network_namespace): a path to open, valid while this lives.
  const std::filesystem::path& path() const { return path_; }
  bool outbound() const { return slirp_ != nullptr; }
  // Whether this process made the namespace and slirp4netns (if any) still runs: what the pool
  // may keep.
  bool reusable() const;

 private:
  JobNetwork() = default;
  Status attach_outbound();

  UniqueFd held_;  // the namespace, when this process made it
  std::filesystem::path path_;
  std::unique_ptr<ChildProcess> slirp_;
};

// The idle namespaces of this process, at most `kMaxIdle` (an idle one costs a descriptor and a
// sleeping slirp4netns). Thread-safe.
class JobNetworkPool {
 public:
  static constexpr size_t kMaxIdle = 4;
  static JobNetworkPool& instance();
  // Only at the process's exit: the idle namespaces are left to end on their own, as after a
  // kill -9 (slirp4netns at its lifeline's end, each namespace with its descriptor). Stopping
  // them would wait ~20 ms for the kernel to tear slirp4netns's tap device down, a quarter of a
  // one-off sandboxed `slipway run`.
  ~JobNetworkPool();

  // An idle usable namespace of the mode, or a new one.
  Result<std::unique_ptr<JobNetwork>> take(bool outbound);
  // Makes one namespace of the mode and keeps it idle, unless one is idle already, so that the
  // next take() finds it. A failure is dropped: that take() makes its own and reports why.
  void prepare(bool outbound);
  // For the next job: call only when no process of the finished job can remain in it.
  void give_back(std::unique_ptr<JobNetwork> network);
  // Stops every idle namespace (a server's stop; tests).
  void clear();

 private:
  std::vector<std::unique_ptr<JobNetwork>>::iterator find_idle_locked(bool outbound);

  std::mutex mutex_;
  std::vector<std::unique_ptr<JobNetwork>> idle_;
};

}  // namespace slipway
