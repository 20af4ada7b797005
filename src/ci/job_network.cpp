#include "ci/job_network.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/core.h>

#include "base/files.h"
#include "base/step_environment.h"
#include "ci/sandbox_view.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr auto kNetworkReadyTimeout = std::chrono::seconds(5);

// Where each holder mounts its root: an empty folder, the same for all of them (each mounts a
// tmpfs over it in a mount namespace of its own).
const fs::path kHolderStaging = "/run/slipway/holder-root";
constexpr uid_t kHolderUid = 65534;  // nobody: the holder only sleeps

bool has_default_route(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/net/route", pid));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string interface, destination;
    fields >> interface >> destination;
    if (destination == "00000000") return true;
  }
  return false;
}

void stop_child(std::unique_ptr<ChildProcess>& child) {
  if (!child) return;
  ::kill(child->pid(), SIGKILL);
  child->reap();
  child.reset();
}

}  // namespace

Result<std::unique_ptr<JobNetwork>> JobNetwork::create(bool outbound) {
  std::unique_ptr<JobNetwork> network(new JobNetwork());
  if (Status held = network->start_holder(); !held) return held.error();
  if (outbound) {
    if (Status attached = network->attach_outbound(); !attached) return attached.error();
  }
  return network;
}

Result<std::unique_ptr<JobNetwork>> JobNetwork::join(pid_t pid, bool outbound) {
  std::unique_ptr<JobNetwork> network(new JobNetwork());
  network->netns_pid_ = pid;
  if (outbound) {
    if (Status attached = network->attach_outbound(); !attached) return attached.error();
  }
  return network;
}

JobNetwork::~JobNetwork() {
  stop_child(slirp_);
  stop_child(holder_);
}

bool JobNetwork::reusable() const {
  return holder_ && !holder_->has_exited() && (!slirp_ || !slirp_->has_exited());
}

// The holder is a sandbox of its own (base/sandbox_entry.h) with a new network namespace, its
// loopback up before the spawn returns, running `sleep` as nobody with the toolchain alone to
// see; its init is the process the namespace is reached through.
Status JobNetwork::start_holder() {
  if (Status made = make_directories(kHolderStaging); !made) return made;
  ::chmod(kHolderStaging.parent_path().c_str(), 0755);
  ::chmod(kHolderStaging.c_str(), 0755);
  auto sandbox = std::make_shared<SandboxSpec>();
  sandbox->staging = kHolderStaging;
  sandbox->mounts = toolchain_mounts();
  sandbox->mounts.push_back({SandboxMount::Kind::proc, "", "/proc"});
  resolve_sources(sandbox->mounts);
  sandbox->workdir = "/";
  sandbox->new_network = true;
  SpawnRequest request{{"/usr/bin/sleep", "infinity"}, {"PATH=" + std::string(kStepPath)}, "/"};
  request.enter.drop_ids = true;
  request.enter.uid = kHolderUid;
  request.enter.gid = kHolderUid;
  request.enter.sandbox = std::move(sandbox);
  auto started = ChildProcess::spawn(request);
  if (!started) return make_error(fmt::format("cannot create the job's network namespace: {}", started.error().message));
  holder_ = std::make_unique<ChildProcess>(std::move(*started));
  netns_pid_ = holder_->pid();
  return {};
}

Status JobNetwork::attach_outbound() {
  fs::path slirp = find_program("slirp4netns");
  if (slirp.empty()) {
    return make_error(
        "network: outbound needs slirp4netns, which is not installed: install the slirp4netns package, or set "
        "`network: none` in the test section");
  }
  // Through `unshare --mount` (all mounts made private, recursively): slirp4netns's own
  // --enable-sandbox makes only "/" private before it pivots and detaches the old root, and the
  // detach would then propagate to the host's shared mounts — the Docker Engine's
  // /var/lib/docker is one, so every container being started at that moment lost its root file
  // system ("exec: stat /service: no such file or directory").
  fs::path unshare = find_program("unshare");
  if (unshare.empty()) return make_error("network: outbound needs unshare (util-linux), which is not installed");
  // --exit-fd=0 on a lifeline: slirp4netns ends with this process, even after a kill -9 (the
  // namespace it serves may be a pod's, which outlives us until the next start removes it).
  auto attached = ChildProcess::spawn({{unshare.string(), "--mount", "--propagation", "private", "--", slirp.string(),
                                        "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                                        "--enable-seccomp", "--exit-fd=0", std::to_string(netns_pid_), "tap0"},
                                       {"PATH=" + std::string(kStepPath)},
                                       "/",
                                       true});
  if (!attached) return make_error(fmt::format("cannot start slirp4netns: {}", attached.error().message));
  slirp_ = std::make_unique<ChildProcess>(std::move(*attached));
  auto deadline = std::chrono::steady_clock::now() + kNetworkReadyTimeout;
  while (!has_default_route(netns_pid_)) {
    if (slirp_->has_exited() || std::chrono::steady_clock::now() > deadline) {
      return make_error("slirp4netns could not give the job's network a way out (no default route after 5 s)");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return {};
}

JobNetworkPool::~JobNetworkPool() {
  for (std::unique_ptr<JobNetwork>& network : idle_) static_cast<void>(network.release());
}

JobNetworkPool& JobNetworkPool::instance() {
  static JobNetworkPool pool;
  return pool;
}

Result<std::unique_ptr<JobNetwork>> JobNetworkPool::take(bool outbound) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto found = find_idle_locked(outbound); found != idle_.end()) {
      std::unique_ptr<JobNetwork> network = std::move(*found);
      idle_.erase(found);
      return network;
    }
  }
  return JobNetwork::create(outbound);
}

void JobNetworkPool::prepare(bool outbound) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (find_idle_locked(outbound) != idle_.end()) return;
  }
  if (auto made = JobNetwork::create(outbound)) give_back(std::move(*made));
}

// Drops the idle namespaces whose holder or slirp4netns ended, on the way.
std::vector<std::unique_ptr<JobNetwork>>::iterator JobNetworkPool::find_idle_locked(bool outbound) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (!(*it)->reusable()) {
      it = idle_.erase(it);  // stops the rest of it
    } else if ((*it)->outbound() == outbound) {
      return it;
    } else {
      ++it;
    }
  }
  return idle_.end();
}

void JobNetworkPool::give_back(std::unique_ptr<JobNetwork> network) {
  if (!network || !network->reusable()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(network));
}

void JobNetworkPool::clear() {
  std::vector<std::unique_ptr<JobNetwork>> stopping;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping.swap(idle_);
  }
}

}  // namespace slipway
