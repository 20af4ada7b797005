// The git questions the run queue and the poller ask of a configured repository's URL: which
// commit a trigger names, which branch heads the remote has, and whether a branch name is one
// git would accept. Branch names are data from outside (webhooks, the API): they only ever
// travel as one argv element, never through a shell.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/remote_heads.h"

namespace slipway {

// The local path behind a repository URL: a path as is, or a file:// URL's path.
std::filesystem::path repository_path(std::string_view url);

// Checks `name` with git's rules for branch names (git check-ref-format --branch), so that a
// name that git would refuse is rejected before anything is recorded. The error names the rule.
Status check_branch_name(std::string_view name);

// The full sha of `commit` (when not empty) or of the head of `branch` in the repository at
// `url`. A commit named with a branch must be on it; with no branch, only present. Errors name the repository and say whether the branch or commit is unknown.
Result<std::string> resolve_trigger_commit(std::string_view url, const std::string& commit,
                                           const std::string& branch);

// The remote's branch heads (`git ls-remote --heads`). Error when the remote cannot be read.
Result<BranchHeads> list_remote_heads(std::string_view url);
// The branch heads in `git ls-remote` output; lines of other refs are skipped.
BranchHeads parse_remote_heads(std::string_view listing);

}  // namespace slipway
