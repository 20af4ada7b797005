// StepProcesses: every process one step started, found by walking /proc, and the signals that
// stop them.
//
// A process group is not enough to find them: a daemon leaves the group and the session with
// setsid(), and once its parent exits it is re-parented to the nearest child subreaper (this
// server: become_subreaper()), losing its link to the step. So a process belongs to the step
// when it
//   - is the step's main process (the supervisor keeps it unreaped until the end), or lives in
//     a session that the main process or any member created (the main process leads a session
//     of its own from spawn; a daemon's setsid makes a new one, remembered once seen alive);
//   - or is an orphan re-parented to this server whose environment carries the step's marker,
//     the only trace left by a double fork too quick for any scan to see;
//   - or descends from a member.
// What escapes: a process that clears its environment AND double-forks into a new session
// between two scans. A cgroup per step would close that gap; it needs a delegated cgroup tree,
// which the hosts we target do not all give us.
//
// Signals go through a pidfd opened after re-checking the process's start time, so a pid that
// was recycled between the scan and the kill is never hit.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace slipway {

// "NAME=value" to put in a step's environment so that its orphans can be recognised.
std::string make_step_marker();

class StepProcesses {
 public:
  // `leader`: the step's main process, leader of its own session. `wrapper_depth`: how many
  // levels of the tree from the leader are wrappers that must not receive SIGTERM (the sandbox's
  // PID-namespace init, base/sandbox_entry.h: terminating it kills the command at once with no
  // grace); 0 for the host executor.
  StepProcesses(pid_t leader, std::string marker, int wrapper_depth);

  // Scans /proc and returns the members still alive (zombies excluded). Reaps members that are
  // zombie children of this process (re-parented orphans), except the leader, which belongs to
  // its ChildProcess.
  std::vector<pid_t> alive();

  // Sends SIGTERM to every live member except the wrappers. Returns how many were signalled.
  int terminate();
  // Sends SIGKILL to every live member, wrappers included, and waits until none is left
  // (bounded, in case a process is stuck in the kernel). Returns false if some remained.
  bool kill_all();

  // True when no process of the step can be alive, proved with two small reads instead of the
  // /proc walks. Every process the step started descends from the leader, and this server is a
  // child subreaper: when a parent dies its children go to the server's first live thread (the
  // main thread), while the leader stays a child of the thread that spawned it. So every live
  // process of the step sits below a child of one of those two threads. Once the leader has
  // exited (its children handed over by then), if the spawning thread's only child is the
  // unreaped leader and the main thread has no child at all, nothing of the step is left — and
  // nothing can start again. False whenever that cannot be shown (a service, a git helper or
  // another step's orphan among those children, a main thread that has exited, no
  // /proc/.../children): the caller then hunts with kill_all(). `spawner_tid`: the thread that
  // launched the leader.
  bool provably_gone(pid_t spawner_tid) const;

 private:
  struct Member {
    pid_t pid;
    unsigned long long start_time;
    bool zombie;
    bool wrapper;
  };
  // `undecided`, when given: how many children of this process could not be told apart (no
  // environment to read: inside execve(), or started without one).
  std::vector<Member> scan(int* undecided = nullptr);
  int signal_members(const std::vector<Member>& members, int signal, bool include_wrappers);

  pid_t leader_;
  std::string marker_;
  int wrapper_depth_;
  std::set<pid_t> sessions_;
};

}  // namespace slipway
