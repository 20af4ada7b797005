#include "ci/job_network.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/core.h>

#include "base/step_environment.h"
#include "ci/sandbox_view.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr auto kNetworkReadyTimeout = std::chrono::seconds(5);

pid_t first_child(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/task/{}/children", pid, pid));
  pid_t child = 0;
  in >> child;
  return child;
}

// Whether `pid` has exec'd the program named `name` (its comm, at most 15 characters).
bool runs_program(pid_t pid, std::string_view name) {
  if (pid <= 0) return false;
  std::ifstream in(fmt::format("/proc/{}/comm", pid));
  std::string comm;
  std::getline(in, comm);
  return comm == name;
}

// The first line a child wrote to `fd` (non-blocking), for an error message; "" when none.
std::string first_line_of(UniqueFd& fd) {
  char buffer[512];
  ssize_t got = fd.valid() ? ::read(fd.get(), buffer, sizeof buffer) : -1;
  if (got <= 0) return "";
  std::string text(buffer, static_cast<size_t>(got));
  return text.substr(0, text.find('\n'));
}

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

Result<std::unique_ptr<JobNetwork>> JobNetwork::create(const fs::path& bwrap, bool outbound) {
  std::unique_ptr<JobNetwork> network(new JobNetwork());
  if (Status held = network->start_holder(bwrap); !held) return held.error();
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
  if (holder_) {
    // The namespace's own process first: bubblewrap then reaps it and exits by itself. Killed
    // the other way round, it would be an orphan handed to this process (a subreaper) and stay
    // a zombie.
    if (netns_pid_ > 0) ::kill(netns_pid_, SIGKILL);
    holder_->reap();
    holder_.reset();
  }
}

bool JobNetwork::reusable() const {
  return holder_ && !holder_->has_exited() && (!slirp_ || !slirp_->has_exited());
}

Status JobNetwork::start_holder(const fs::path& bwrap) {
  std::vector<std::string> holder = {bwrap.string(), "--die-with-parent", "--unshare-net", "--unshare-pid",
                                     "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL"};
  for (std::string& word : bubblewrap_arguments(toolchain_mounts())) holder.push_back(std::move(word));
  holder.insert(holder.end(), {"--", "/usr/bin/sleep", "infinity"});
  auto started = ChildProcess::spawn({holder, {"PATH=" + std::string(kStepPath)}, "/"});
  if (!started) return make_error(fmt::format("cannot start the job's network holder: {}", started.error().message));
  holder_ = std::make_unique<ChildProcess>(std::move(*started));
  // Ready once the namespace's command runs: bubblewrap configures the new namespace's loopback
  // in its init before it starts the command, and slirp4netns configuring the same namespace
  // meanwhile makes that fail ("loopback: Failed RTM_NEWADDR"), under load about once in forty.
  auto deadline = std::chrono::steady_clock::now() + kNetworkReadyTimeout;
  while ((netns_pid_ = first_child(holder_->pid())) == 0 || !runs_program(first_child(netns_pid_), "sleep")) {
    if (holder_->has_exited() || std::chrono::steady_clock::now() > deadline) {
      std::string said = first_line_of(holder_->stderr_fd());
      return make_error(fmt::format("the job's network namespace could not be created (bubblewrap --unshare-net {})",
                                    said.empty() ? "failed" : "said: " + said));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
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

JobNetworkPool& JobNetworkPool::instance() {
  static JobNetworkPool pool;
  return pool;
}

Result<std::unique_ptr<JobNetwork>> JobNetworkPool::take(const fs::path& bwrap, bool outbound) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (!(*it)->reusable()) {
        it = idle_.erase(it);  // its holder or slirp4netns ended: stop the rest
      } else if ((*it)->outbound() == outbound) {
        std::unique_ptr<JobNetwork> network = std::move(*it);
        idle_.erase(it);
        return network;
      } else {
        ++it;
      }
    }
  }
  return JobNetwork::create(bwrap, outbound);
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
