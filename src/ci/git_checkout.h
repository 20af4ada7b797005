// Git operations the Test stage needs: naming the commit to test, and a clean checkout of it in
// a fresh workspace. The workspace holds only what the commit holds: uncommitted changes and
// untracked files of the source repository never leak into a run.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"

namespace slipway {

struct CommitInfo {
  std::string sha;        // full 40-hex sha
  std::string branch;     // the branch checked out in the source, when `sha` is its HEAD; else ""
};

// Resolves `revision` ("HEAD", a sha, a branch) in the repository at `repository`, a work tree
// or a bare repository. "HEAD" is read from the repository's files when its layout is the plain
// one (no git process); every other case asks git. Errors say whether the folder is not a git
// repository or the revision is unknown.
Result<CommitInfo> resolve_commit(const std::filesystem::path& repository, const std::string& revision);

// Clones `repository` into `workspace` (which must not exist yet) and checks out `sha` detached.
// The workspace's .git is what `git clone --shared` gives — the source's objects through
// alternates, its tags, its branches as origin/* — written directly, with one `git read-tree`
// for the files; layouts that shortcut does not know (gitfiles, linked worktrees, reftable,
// SHA-256) fall back to `git clone` and `git checkout`.
Status checkout_commit(const std::filesystem::path& repository, const std::string& sha,
                       const std::filesystem::path& workspace);

// Writes `dot_git` (over what is there) as checkout_commit() does on its fast path — HEAD
// detached at `sha`, origin's branches and tags, the source's objects borrowed — but no index and
// no files: for a workspace whose files come from elsewhere (ci/workspace_template.h). Error when
// the source's layout needs `git clone` (see checkout_commit).
Status write_checkout_git_directory(const std::filesystem::path& repository, const std::string& sha,
                                    const std::filesystem::path& dot_git);

// Replaces the workspace's .git with the one checkout_commit() wrote, without an index (tagging
// and pushing need none, and reading a large tree into one costs tens of milliseconds), no file of
// the work tree touched: everything a step put there goes — hooks, configuration (core.fsmonitor,
// aliases, hooksPath), refs, objects. The publish stage runs git in the workspace as the server's
// user after the test job, which could write all of .git.
Status renew_git_directory(const std::filesystem::path& repository, const std::string& sha,
                           const std::filesystem::path& workspace);

// Merges `branch` (a branch of the source, as the checkout names it: refs/remotes/origin/NAME)
// into the checked-out commit, as a forge's merge button would (a merge commit, never a
// fast-forward), in the workspace only. Error on a conflict, naming the files and the branch.
Status merge_branch_into_workspace(const std::filesystem::path& workspace, const std::string& branch);

// Reads one file's content at a commit without a checkout (e.g. .slipway.yml). Error if absent.
Result<std::string> read_file_at_commit(const std::filesystem::path& repository, const std::string& sha,
                                        const std::string& path);

}  // namespace slipway
