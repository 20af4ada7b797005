#include "ci/job_network.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/core.h>

#include "base/files.h"
#include "base/network_namespace.h"
#include "base/step_environment.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr auto kNetworkReadyTimeout = std::chrono::seconds(5);

// Read inside the namespace: /proc/thread-self/net is the calling thread's namespace's.
bool has_default_route() {
  std::ifstream in("/proc/thread-self/net/route");
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

// The last line an ended helper wrote to stderr: its diagnosis (about our own arguments, no
// secret), after whatever it logged while starting.
std::string exit_message(ChildProcess& child) {
  std::string text;
  char buffer[4096];
  ssize_t got = 0;
  while (child.stderr_fd().valid() && text.size() < 65536 && (got = ::read(child.stderr_fd().get(), buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(got));
  }
  std::string_view last = last_line(text);
  return last.empty() ? "it wrote nothing to stderr" : sanitize_utf8(last.substr(0, 300));
}

void stop_child(std::unique_ptr<ChildProcess>& child) {
  if (!child) return;
  ::kill(child->pid(), SIGKILL);
  child->reap();
  child.reset();
}

}  // namespace

Result<std::unique_ptr<JobNetwork>> JobNetwork::create(bool outbound) {
  auto held = create_network_namespace();
  if (!held) return make_error("cannot create the job's network namespace: " + held.error().message);
  std::unique_ptr<JobNetwork> network(new JobNetwork());
  network->held_ = std::move(*held);
  network->path_ = network_namespace_path(network->held_);
  if (outbound) {
    if (Status attached = network->attach_outbound(); !attached) return attached.error();
  }
  return network;
}

Result<std::unique_ptr<JobNetwork>> JobNetwork::join(pid_t pid, bool outbound) {
  std::unique_ptr<JobNetwork> network(new JobNetwork());
  network->path_ = fmt::format("/proc/{}/ns/net", pid);
  if (outbound) {
    if (Status attached = network->attach_outbound(); !attached) return attached.error();
  }
  return network;
}

JobNetwork::~JobNetwork() { stop_child(slirp_); }

bool JobNetwork::reusable() const { return held_.valid() && (!slirp_ || !slirp_->has_exited()); }

Status JobNetwork::attach_outbound() {
  fs::path slirp = find_program("slirp4netns");
  if (slirp.empty()) {
    return make_error(
        "network: outbound needs slirp4netns, which is not installed: install the slirp4netns package, or set "
        "`network: none` in the test section");
  }
  // In a mount namespace of its own whose mounts are all private, recursively
  // (ProcessEntry::private_mounts): slirp4netns's own --enable-sandbox makes only "/" private
  // before it pivots and detaches the old root, and the detach would then propagate to the
  // host's shared mounts — the Docker Engine's /var/lib/docker is one, so every container being
  // started at that moment lost its root file system ("exec: stat /service: no such file or
  // directory").
  // --exit-fd=0 on a lifeline: slirp4netns ends with this process, even after a kill -9 (the
  // namespace it serves may be a pod's, which outlives us until the next start removes it).
  SpawnRequest request{{slirp.string(), "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                        "--enable-seccomp", "--exit-fd=0", "--netns-type=path", path_.string(), "tap0"},
                       {"PATH=" + std::string(kStepPath)},
                       "/",
                       true};
  request.enter.private_mounts = true;
  auto attached = ChildProcess::spawn(request);
  if (!attached) return make_error(fmt::format("cannot start slirp4netns: {}", attached.error().message));
  slirp_ = std::make_unique<ChildProcess>(std::move(*attached));
  // One thread inside the namespace watches for the route slirp4netns adds.
  return run_in_network_namespace(path_, [this]() -> Status {
    auto deadline = std::chrono::steady_clock::now() + kNetworkReadyTimeout;
    while (!has_default_route()) {
      if (slirp_->has_exited()) return make_error("slirp4netns ended before the job's network had a way out: " + exit_message(*slirp_));
      if (std::chrono::steady_clock::now() > deadline) {
        return make_error("slirp4netns could not give the job's network a way out (no default route after 5 s)");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return {};
  });
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

// Drops the idle namespaces whose slirp4netns ended, on the way.
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
