// ChildProcess: one program started by the server (a CI step, deploy.verify), with its output on
// two pipes and a pidfd to learn of its exit inside the same poll(2) loop that reads the pipes.
// It is the one way the server starts a program it supervises: posix_spawn, never fork (see
// child_process.cpp) — or, to enter a job sandbox first, the same vfork-style clone done by hand
// (child_entry.cpp) — an explicit argv and a complete environment.
//
// It is passive, like ninja's Subprocess: the owner polls the descriptors, reads them, and asks
// whether the child has exited. It never kills anything on its own except in its destructor,
// as a last resort when the owner forgot to reap it. Stopping a whole step is StepSupervisor's
// job, because the child is only the first process of a tree.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway {

// pidfd system calls (Linux 5.3+), called directly: glibc 2.36's <sys/pidfd.h> lacks
// extern "C" and cannot be linked from C++. -1 and errno on failure, like the syscalls.
int open_pidfd(pid_t pid);
int send_signal_by_pidfd(int pidfd, int signal);

// What a child enters before its program starts — the job sandbox's way in (ci/job_sandbox.h),
// done by the child itself so that no helper program (sh to join cgroups, nsenter) has to start
// first. In this order: it moves itself into each cgroup (writes "0" to its cgroup.procs, so
// nothing it starts can run outside them), joins the network namespace, then drops to
// uid/gid with no supplementary groups (real, effective and saved ids, so exec keeps no way back).
//
// With `sandbox`, the child then builds a fresh sandbox for the program (base/sandbox_entry.h):
// new user, mount, PID, IPC, UTS and cgroup namespaces (and network with new_network), the file
// system of `mounts` on an empty root, the program as uid/gid with no capabilities, no_new_privs
// and no way to create user namespaces. The process this returns is then the PID namespace's
// init, a small process of ours: it ends when the program does, and the kernel has killed
// everything else in the namespace by the time it has.
struct SandboxMount {
  enum class Kind {
    bind_read_only,  // source (a host path) read-only, nosuid, nodev, with what is mounted below it
    bind,            // the same, writable
    bind_device,     // writable, nosuid, devices usable (/dev/null and the like)
    tmpfs,           // a new tmpfs; source holds its options ("mode=0755,size=...")
    symlink,         // target -> source
    proc,            // the PID namespace's /proc
    devpts,          // a private devpts instance
  };
  Kind kind;
  // A bind's host path, without symbolic links (once the root has moved, an absolute link on the
  // way would resolve inside the sandbox); a link's target; a tmpfs's options.
  std::string source;
  std::string target;  // absolute, inside the sandbox; missing folders on the way are made
  bool file = false;   // the mount point is a file (the source is one)
};

struct SandboxSpec {
  std::filesystem::path staging;  // an empty folder of the host the new root is mounted on
  std::vector<SandboxMount> mounts;
  std::filesystem::path workdir;  // inside the sandbox
  bool new_network = false;       // a network namespace of its own, loopback only
};

struct ProcessEntry {
  std::vector<std::filesystem::path> cgroups;  // cgroup.procs files
  // /proc/PID/ns/net or a network_namespace_path (base/network_namespace.h); empty: the server's
  std::filesystem::path network_namespace;
  bool drop_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::shared_ptr<const SandboxSpec> sandbox;  // none: the program runs where it was entered
  // A mount namespace of its own whose mounts are all private, recursively (what `unshare
  // --mount --propagation private` gives): nothing the program mounts or unmounts reaches the
  // host's mounts. Needs root; without a sandbox only.
  bool private_mounts = false;
  bool empty() const {
    return cgroups.empty() && network_namespace.empty() && !drop_ids && !sandbox && !private_mounts;
  }
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is an absolute path: there is no PATH search
  std::vector<std::string> env;   // "NAME=value" each: the child's complete environment
  std::filesystem::path cwd;
  // stdin is a pipe whose only write end this process keeps (ChildProcess holds it): the child
  // reads end-of-file there as soon as this process is gone, even after a kill -9. What a helper
  // that must not outlive us watches (slirp4netns --exit-fd=0). Otherwise stdin is /dev/null.
  bool stdin_lifeline = false;
  ProcessEntry enter;  // empty: none (posix_spawn); else see ProcessEntry (clone + vfork)
};

// How a process ended: exit_code (and signal 0) when it exited, exit_code -1 and the signal
// when a signal ended it.
struct ExitStatus {
  int exit_code = -1;
  int signal = 0;
};

class ChildProcess {
 public:
  // Starts the program in a new session (so it leads its own process group and session and has
  // no controlling terminal: a child cannot read or inject into the server's terminal), with
  // stdin from /dev/null, stdout and stderr on pipes, every other descriptor closed and every
  // signal at its default disposition. Fails when the program or the directory is missing or
  // the system is out of resources; the message names which.
  static Result<ChildProcess> spawn(const SpawnRequest& request);

  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Readable once the child has exited (pidfd, Linux 5.3+).
  int exit_fd() const { return pidfd_.get(); }
  // The read ends of stdout and stderr, non-blocking; -1 once closed.
  UniqueFd& stdout_fd() { return stdout_; }
  UniqueFd& stderr_fd() { return stderr_; }
  // The write end of the stdin lifeline (blocking), for a child that also reads requests there
  // (git cat-file --batch-command); -1 without one.
  UniqueFd& stdin_fd() { return lifeline_; }

  // The exit status once the child has exited, without reaping it: an unreaped child keeps its
  // pid, so nothing else can take that number (or its session id) while the tree is stopped.
  std::optional<ExitStatus> peek_exit() const;
  bool has_exited() const;
  // Waits for the exit and reaps the child. Call once.
  ExitStatus reap();

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd, UniqueFd out, UniqueFd err, UniqueFd lifeline);

  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd pidfd_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  UniqueFd lifeline_;  // the write end of a stdin lifeline, if asked for
  // A sandbox's init runs our code on this stack, in our memory, until it exits: freed after
  // the reap (see base/sandbox_entry.h).
  std::shared_ptr<void> init_stack_;
};

}  // namespace slipway
