// spawn_entering: ChildProcess's way to start a program inside a job sandbox (ProcessEntry in
// child_process.h). Internal to base/.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/child_process.h"

namespace slipway {

struct EntryFailure {
  int error = 0;               // errno of the failed step; 0: the program started
  const char* step = nullptr;  // what failed, for the message ("join the job's cgroup", ...)
};

// Starts request.argv with stdin/stdout/stderr from the descriptors given (stdin -1: /dev/null),
// in a new session, with default signal dispositions and an empty mask, every other descriptor
// closed, after request.enter is done. *pid is set when the program started.
// Null-terminated char* arrays pointing into `strings`, which must outlive them (an argv, an envp).
std::vector<char*> c_strings(const std::vector<std::string>& strings);

EntryFailure spawn_entering(pid_t* pid, const SpawnRequest& request, int stdin_fd, int out_fd, int err_fd);

}  // namespace slipway
