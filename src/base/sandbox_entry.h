// The sandbox a child builds for its program (SandboxSpec in child_process.h): the part of
// spawn_entering that starts a program in fresh namespaces. Internal to base/.
//
// Three processes, all made with clone(2) on our memory, none of them a program of its own:
// - the entering child (child_entry.cpp), once in the job's cgroups and network namespace,
//   clones the sandbox's init into new user, mount, PID, IPC, UTS and cgroup namespaces, as a
//   child of the server (CLONE_PARENT). With root it writes the init's uid and gid maps from
//   outside (a writer with CAP_SETUID over the parent namespace may map the job's uid) and the
//   init shares the server's memory, which is made undumpable first: the init is PID 1 to the
//   step, and a dumpable memory could be read through it. Without root the init gets a copy of
//   the server's memory, maps the server's own ids itself and makes that copy undumpable. The
//   entering child exits once the program has started, or with the failure the init reported;
// - the init (PID 1) mounts the new root — a tmpfs on SandboxSpec::staging, the mounts in
//   order, /proc, the host's tree detached — forbids nested user namespaces, and starts the
//   program, then reaps until the program exits and exits with its status (128 + the signal
//   when a signal ended it). The kernel kills everything else in the namespace before the
//   init's exit is reported, so the init's end is the proof that nothing of the step is left;
// - the program's process drops the capability bounding set, sets no_new_privs, takes the
//   job's uid and gid (which leaves it no capability) and execs.
// The init never execs: it runs our code on its own stack beside the server, so once the server
// runs again (when the entering child exits) it makes raw system calls only (no errno, no memory
// but its stack), and its stack stays mapped until it has been reaped (ChildProcess holds it).
//
// What bubblewrap did per step (its program, its two processes, ~550 system calls) costs ~10 ms
// here; this is one exec (the program's) and well under a millisecond of set-up (with root; a
// server without root pays for copying its memory once per step).
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/child_entry.h"
#include "base/child_process.h"
#include "base/unique_fd.h"

namespace slipway {

// A SandboxSpec as C strings, made before the clone (the children may not allocate).
struct PreparedSandbox {
  struct Mount {
    SandboxMount::Kind kind;
    const char* source;  // host paths under /oldroot (the host's tree once the root has moved)
    const char* target;
    bool file;
  };
  std::deque<std::string> strings;  // what the pointers point into (a deque never moves them)
  std::vector<Mount> mounts;
  const char* staging = nullptr;
  const char* workdir = nullptr;
  bool new_network = false;
  uid_t uid = 0;
  gid_t gid = 0;
  char id_map[2][48] = {};  // the uid and gid maps: "ID ID 1", the job's ids as themselves
  // With root, the entering child writes the init's maps from outside and the init shares the
  // server's memory; without, the init maps the server's own ids itself, in a copy of it.
  bool maps_from_outside = false;
  UniqueFd go_read, go_write;     // the entering child tells the init its maps are written
  int report_fd = -1;             // where the init and the program report a failed set-up
  std::shared_ptr<void> init_stack;  // kInitStackBytes (sandbox_entry.cpp)
};

EntryFailure prepare_sandbox(const SandboxSpec& spec, uid_t uid, gid_t gid, std::unique_ptr<PreparedSandbox>* out);

// In the entering child: starts the sandbox (plan->sandbox) and exits; plan->init_pid and
// plan->failure say how it went.
[[noreturn]] void start_sandbox(EntryPlan* plan);

}  // namespace slipway
