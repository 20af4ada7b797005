// What every step runs with, whatever the executor: `bash -e -o pipefail -c SCRIPT` in its
// workspace, and an environment made of a small fixed base, then the step's own variables, which
// win. Nothing comes from the server's own environment: it holds the server's secrets (master
// key location, tokens) and whatever the operator's shell had, none of which a step should see.
// In base/ because every command a repository defines gets this environment: CI steps (ci/) and
// deploy.verify (cd/).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway {

// The directories of PATH in a step, also where Slipway looks for helper programs (slirp4netns).
inline constexpr const char* kStepPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// "NAME=value" strings: PATH, HOME=`home`, LANG=C.UTF-8, TERM=dumb, CI=true, SLIPWAY=true,
// then `variables`. Fails on a name that is empty or holds '=' or NUL, or a value holding NUL,
// which could not be passed to a process faithfully.
Result<std::vector<std::string>> step_environment(
    const std::map<std::string, std::string>& variables, const std::filesystem::path& home);

// /bin/bash -e -o pipefail -c `script`.
std::vector<std::string> shell_command(const std::string& script);

// Fails unless `workspace` is an absolute path to an existing directory.
Status check_workspace(const std::filesystem::path& workspace);

// The first directory of kStepPath holding an executable `name`, or nothing.
std::filesystem::path find_program(const std::string& name);

}  // namespace slipway
