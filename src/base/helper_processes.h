// The server's own long-lived helper processes (today the `git cat-file --batch-command` of
// base/git_objects.h): children of whichever thread first needed them, alive across steps.
//
// The host executor proves a step left nothing running by reading which children the spawning
// thread and the main thread have (ci/process_tree.h provably_gone); a helper among them would make
// that proof fail every time and send every step through the slow /proc hunt. A registered pid
// is known not to be the step's: it is this process's child, registered before any step could
// have started it and unregistered before it is reaped, so its pid cannot have been reused by
// a step's process while registered.
#pragma once

#include <sys/types.h>

namespace slipway {

void register_helper_process(pid_t pid);
void unregister_helper_process(pid_t pid);
bool is_helper_process(pid_t pid);

}  // namespace slipway
