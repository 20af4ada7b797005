// spawn_entering: ChildProcess's way to start a program inside a job sandbox (ProcessEntry in
// child_process.h). Internal to base/.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/child_process.h"

namespace slipway {

struct EntryFailure {
  int error = 0;               // errno of the failed step; 0: the program started
  const char* step = nullptr;  // what failed, for the message ("join the job's cgroup", ...)
  const char* subject = nullptr;  // the path it failed on, if any (the child sets it)
  std::string detail;             // a copy of subject once the child is done (what is returned)
};

struct PreparedSandbox;  // base/sandbox_entry.h

// Everything the child needs, made before the clone: the child shares the server's memory and
// may only make system calls on it.
struct EntryPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int stdin_fd, out_fd, err_fd;
  const int* cgroup_fds;
  size_t cgroup_count;
  int netns_fd;
  bool private_mounts;
  bool drop_ids;
  uid_t uid;
  gid_t gid;
  PreparedSandbox* sandbox;        // null: exec where entered
  pid_t init_pid;                  // the sandbox's init, once started (our child)
  EntryFailure failure;            // written by the child, read once it has exec'd or exited
};

// Records what failed (errno and `step`) in the plan and exits the child with 127.
[[noreturn]] void give_up(EntryPlan* plan, const char* step);

// Null-terminated char* arrays pointing into `strings`, which must outlive them (an argv, an envp).
std::vector<char*> c_strings(const std::vector<std::string>& strings);

// Starts request.argv with stdin/stdout/stderr from the descriptors given (stdin -1: /dev/null),
// in a new session, with default signal dispositions and an empty mask, every other descriptor
// closed, after request.enter is done. *pid is set when the program started: with a sandbox,
// the sandbox's init, whose stack *init_stack holds until it has been reaped.
EntryFailure spawn_entering(pid_t* pid, std::shared_ptr<void>* init_stack, const SpawnRequest& request, int stdin_fd,
                            int out_fd, int err_fd);

}  // namespace slipway
