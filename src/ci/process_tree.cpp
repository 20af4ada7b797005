#include "ci/process_tree.h"

#include <fmt/core.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "base/child_process.h"
#include "base/helper_processes.h"
#include "ci/executor.h"
#include "ci/proc_table.h"

namespace slipway {

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

std::string make_step_marker() {
  std::random_device random;
  return fmt::format("SLIPWAY_STEP_MARKER={:08x}{:08x}{:08x}{:08x}", random(), random(), random(),
                     random());
}

StepProcesses::StepProcesses(pid_t leader, std::string marker, int wrapper_depth)
    : leader_(leader),
      marker_(std::move(marker)),
      wrapper_depth_(wrapper_depth),
      sessions_{leader} {}

namespace {

struct Candidate {
  const ProcEntry* entry;
  int depth_below_leader;  // -1 when not reached through the leader
};

}  // namespace

std::vector<StepProcesses::Member> StepProcesses::scan(int* undecided) {
  const std::vector<ProcEntry> table = read_process_table();
  const pid_t self = ::getpid();
  const pid_t own_session = ::getsid(0);

  std::multimap<pid_t, const ProcEntry*> children;
  std::deque<Candidate> queue;
  if (undecided != nullptr) *undecided = 0;
  for (const ProcEntry& entry : table) {
    if (entry.pid == self || entry.pid <= 1) continue;
    children.emplace(entry.ppid, &entry);
    if (entry.pid == leader_) {
      queue.push_front({&entry, 0});  // first, so depths are counted from the leader
    } else if (sessions_.count(entry.sid) != 0) {
      queue.push_back({&entry, -1});
    } else if (entry.ppid == self && !entry.zombie()) {
      // A re-parented orphan: the step's if it carries the step's marker.
      EnvironmentLook look = look_for_environment_entry(entry.pid, marker_);
      if (look == EnvironmentLook::holds) queue.push_back({&entry, -1});
      if (look == EnvironmentLook::nothing && undecided != nullptr) ++*undecided;
    }
  }

  std::vector<Member> members;
  std::set<pid_t> seen;
  std::set<pid_t> sessions;
  while (!queue.empty()) {
    Candidate candidate = queue.front();
    queue.pop_front();
    const ProcEntry& entry = *candidate.entry;
    if (!seen.insert(entry.pid).second) continue;
    bool wrapper =
        candidate.depth_below_leader >= 0 && candidate.depth_below_leader < wrapper_depth_;
    members.push_back({entry.pid, entry.start_time, entry.zombie(), wrapper});
    if (entry.sid != own_session) sessions.insert(entry.sid);
    auto [first, last] = children.equal_range(entry.pid);
    for (auto it = first; it != last; ++it) {
      int depth = candidate.depth_below_leader >= 0 ? candidate.depth_below_leader + 1 : -1;
      queue.push_back({it->second, depth});
    }
  }
  // Only sessions that still hold a member: a session id with no process left could be taken by
  // an unrelated process that calls setsid() later.
  sessions.insert(leader_);
  sessions_ = std::move(sessions);
  return members;
}

std::vector<pid_t> StepProcesses::alive() {
  std::vector<pid_t> pids;
  for (const Member& member : scan()) {
    if (!member.zombie) {
      pids.push_back(member.pid);
    } else if (member.pid != leader_) {
      // A re-parented orphan that died: ours to reap. WNOHANG because it may be the child of a
      // member that is still alive (then that member reaps it, or we do once it is re-parented).
      ::waitpid(member.pid, nullptr, WNOHANG);
    }
  }
  return pids;
}

int StepProcesses::signal_members(const std::vector<Member>& members, int signal,
                                  bool include_wrappers) {
  int signalled = 0;
  for (const Member& member : members) {
    if (member.zombie || (member.wrapper && !include_wrappers)) continue;
    UniqueFd pidfd(open_pidfd(member.pid));
    if (!pidfd.valid()) continue;  // already gone
    // The pidfd now pins one process; if it is still the one the scan saw, signal it.
    std::optional<ProcEntry> now = read_process(member.pid);
    if (!now || now->start_time != member.start_time) continue;
    if (send_signal_by_pidfd(pidfd.get(), signal) == 0) ++signalled;
  }
  return signalled;
}

namespace {

// The pids in /proc/self/task/TID/children (the thread's own children, not its siblings'), but
// the server's helpers (base/helper_processes.h), or nothing when the kernel does not provide
// the file.
std::optional<std::vector<pid_t>> thread_children(pid_t tid) {
  std::ifstream file(fmt::format("/proc/self/task/{}/children", tid));
  if (!file) return std::nullopt;
  std::vector<pid_t> pids;
  for (pid_t pid = 0; file >> pid;) {
    if (!is_helper_process(pid)) pids.push_back(pid);  // the server's own git, not the step's
  }
  if (!file.eof()) return std::nullopt;
  return pids;
}

// The main thread is where orphans go only while it is alive: a group leader that called
// pthread_exit() stays listed as a zombie, and orphans then go to another thread.
bool main_thread_alive() {
  std::ifstream file(fmt::format("/proc/self/task/{}/stat", ::getpid()));
  std::string line;
  if (!std::getline(file, line)) return false;
  size_t close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() &&
         line[close_paren + 2] != 'Z' && line[close_paren + 2] != 'X';
}

}  // namespace

bool StepProcesses::provably_gone(pid_t spawner_tid) const {
  // The spawner first: nothing can join its children from now on (it is this thread, busy here,
  // or a thread that no longer spawns for this step), so one read holds for the main thread's.
  std::optional<std::vector<pid_t>> spawned = thread_children(spawner_tid);
  if (!spawned || *spawned != std::vector<pid_t>{leader_}) return false;
  if (std::optional<ProcEntry> leader = read_process(leader_); !leader || !leader->zombie()) return false;
  if (spawner_tid == ::getpid()) return true;  // the main thread spawned it: already read
  std::optional<std::vector<pid_t>> adopted = thread_children(::getpid());
  return adopted && adopted->empty() && main_thread_alive();
}

int StepProcesses::terminate() { return signal_members(scan(), SIGTERM, false); }

bool StepProcesses::kill_all() {
  using namespace std::chrono;
  // SIGKILL takes effect at once unless a process is blocked inside the kernel (a hung NFS
  // mount); do not hang the caller forever on such a process.
  const auto give_up_at = steady_clock::now() + seconds(10);
  // One empty scan is not proof: an orphan caught mid-exec shows no environment, so neither it
  // nor the child it is handing to us is recognised at that instant. A scan that saw a child of
  // ours without an environment does not count as empty (for 200 ms at most: a process started
  // with an empty environment reads the same forever), and two empty scans a few milliseconds
  // apart let the other transitions (a member mid-exit handing its children to us) finish.
  const auto undecided_until = steady_clock::now() + milliseconds(200);
  int empty_scans = 0;
  while (empty_scans < 2) {
    int unreadable = 0;
    std::vector<Member> members = scan(&unreadable);
    bool any_alive = false;
    for (const Member& member : members) any_alive = any_alive || !member.zombie;
    const bool undecided = unreadable > 0 && steady_clock::now() < undecided_until;
    empty_scans = any_alive || undecided ? 0 : empty_scans + 1;
    if (any_alive && steady_clock::now() > give_up_at) return false;
    if (any_alive) signal_members(members, SIGKILL, true);
    std::this_thread::sleep_for(milliseconds(any_alive || undecided ? 2 : 10));
  }
  alive();  // reaps the orphaned zombies
  return true;
}

}  // namespace slipway
