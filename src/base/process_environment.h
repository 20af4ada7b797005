// take_environment_variable: reads a variable once and removes it from this process, for the
// server's own secrets ($SLIPWAY_MASTER_KEY, $SLIPWAY_ADMIN_TOKEN). Removed means: gone from
// `environ`, so no helper started afterwards (git, haproxy, docker, curl, slirp4netns, a step's shell)
// inherits it, and its bytes wiped from the environment block the kernel shows as
// /proc/PID/environ, which unsetenv() alone leaves untouched.
//
// Call it first thing in main(), before any thread starts: the environment is not thread-safe,
// and a helper spawned earlier would already have its copy.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace slipway {

// The variable's value (the first, should it appear twice), or nullopt when it is not set. Every
// entry of that name is removed and wiped either way.
std::optional<std::string> take_environment_variable(const std::string& name);

// What a helper program of the server (git, haproxy) inherits, as "NAME=value" entries: this
// process's environment, which no longer holds the server's own secrets once they were taken.
// What run_command passes when it is given no environment of its own.
std::vector<std::string> helper_environment();

}  // namespace slipway
