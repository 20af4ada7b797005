#include "ci/leftover_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "base/child_process.h"
#include "ci/proc_table.h"
#include "ci/process_tree.h"

namespace slipway {

namespace {

constexpr std::string_view kMarkerName = "SLIPWAY_STEP_MARKER=";

thread_local std::string current_scope;

// FNV-1a: tiny, and unlike std::hash its value is fixed, so a restarted (or rebuilt) server
// computes the same tag for its data directory.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The marked processes and everything below them: a step may have cleared its children's
// environment, but not their parentage (orphans of a dead server are re-parented to init or a
// subreaper, and their own children stay below them).
std::vector<ProcEntry> marked_trees(const std::string& prefix) {
  const pid_t self = ::getpid();
  std::vector<ProcEntry> table = read_process_table();
  std::multimap<pid_t, const ProcEntry*> children;
  std::vector<const ProcEntry*> pending;
  for (const ProcEntry& entry : table) {
    if (entry.pid == self || entry.zombie()) continue;
    children.emplace(entry.ppid, &entry);
    if (environment_has_prefix(entry.pid, prefix)) pending.push_back(&entry);
  }
  std::vector<ProcEntry> found;
  std::set<pid_t> seen;
  while (!pending.empty()) {
    const ProcEntry* entry = pending.back();
    pending.pop_back();
    if (!seen.insert(entry->pid).second) continue;
    found.push_back(*entry);
    auto [first, last] = children.equal_range(entry->pid);
    for (auto it = first; it != last; ++it) pending.push_back(it->second);
  }
  return found;
}

// SIGKILL through a pidfd, after checking the pid still names the process the scan saw.
bool kill_process(const ProcEntry& entry) {
  UniqueFd pidfd(open_pidfd(entry.pid));
  if (!pidfd.valid()) return false;
  auto now = read_process(entry.pid);
  if (!now || now->start_time != entry.start_time) return false;
  return send_signal_by_pidfd(pidfd.get(), SIGKILL) == 0;
}

}  // namespace

std::string marker_scope_for(const std::filesystem::path& data_root) {
  std::error_code ignored;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(data_root, ignored);
  if (canonical.empty()) canonical = std::filesystem::absolute(data_root);
  return fmt::format("{:016x}", fnv1a(canonical.string()));
}

StepMarkerScope::StepMarkerScope(std::string scope) : previous_(std::move(current_scope)) {
  current_scope = std::move(scope);
}

StepMarkerScope::~StepMarkerScope() { current_scope = std::move(previous_); }

std::string make_scoped_step_marker() {
  std::string marker = make_step_marker();
  if (current_scope.empty()) return marker;
  return marker.insert(kMarkerName.size(), current_scope + ".");
}

int stop_leftover_steps(const std::string& scope) {
  const std::string prefix = fmt::format("{}{}.", kMarkerName, scope);
  const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::set<pid_t> killed;
  // Killing a parent can let a child it was about to fork appear: look again until a scan
  // finds nothing (bounded, in case a process is stuck in the kernel).
  while (std::chrono::steady_clock::now() < give_up_at) {
    std::vector<ProcEntry> leftovers = marked_trees(prefix);
    if (leftovers.empty()) break;
    for (const ProcEntry& entry : leftovers) {
      if (kill_process(entry)) killed.insert(entry.pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return static_cast<int>(killed.size());
}

}  // namespace slipway
