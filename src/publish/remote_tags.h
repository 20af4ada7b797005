// The tags of a git repository as its server advertises them (`git ls-remote --tags`): works
// the same for a local path and a URL, needs no fetch, and sees exactly what origin has now.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

struct RemoteTag {
  std::string name;      // "v1.2.3" (without refs/tags/)
  std::string object;    // what the ref holds: the tag object, or the commit for a lightweight tag
  std::string commit;    // what it peels to (== object for a lightweight tag)
  bool annotated() const { return object != commit; }
};

// Every tag of `repository`, sorted by name. An Error quoting git when the repository cannot
// be read (no such path, not a repository, refused credentials); never prompts for a password.
Result<std::vector<RemoteTag>> list_remote_tags(std::string_view repository);

// Runs `git ARGS...` for a command that may contact a remote: with terminal prompts off, so a
// missing credential fails at once instead of waiting on a terminal no one watches.
// `git ARGS...` runs in `working_directory` (the process's own when empty).
Result<std::string> run_git_noninteractive(std::vector<std::string> arguments,
                                           const std::filesystem::path& working_directory);

}  // namespace slipway
