#include "ci/git_checkout.h"

#include <fmt/core.h>

#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

Result<std::string> git(const fs::path& repository, std::vector<std::string> arguments) {
  std::vector<std::string> argv = {"git", "-C", repository.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return run_command_checked(argv);
}

}  // namespace

Result<CommitInfo> resolve_commit(const fs::path& repository, const std::string& revision) {
  auto top = git(repository, {"rev-parse", "--show-toplevel"});
  if (!top) {
    return make_error(fmt::format("{} is not a git repository (run `git init` and commit, or pass the "
                                  "repository's folder)", repository.string()));
  }
  // "--end-of-options" keeps a revision that starts with '-' from being read as an option.
  auto sha = git(repository, {"rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"});
  if (!sha) {
    return make_error(fmt::format("{}: no commit '{}' (is anything committed yet?)", repository.string(), revision));
  }
  CommitInfo info;
  info.sha = std::string(trim(*sha));
  auto head = git(repository, {"rev-parse", "HEAD"});
  auto branch = git(repository, {"symbolic-ref", "--quiet", "--short", "HEAD"});
  if (head && branch && trim(*head) == info.sha) info.branch = std::string(trim(*branch));
  auto subject = git(repository, {"log", "-1", "--format=%s", info.sha});
  if (subject) info.subject = std::string(trim(*subject));
  return info;
}

Status checkout_commit(const fs::path& repository, const std::string& sha, const fs::path& workspace) {
  if (fs::exists(workspace)) {
    return make_error(fmt::format("workspace {} already exists; a run always starts in a fresh one",
                                  workspace.string()));
  }
  auto cloned = run_command_checked({"git", "clone", "--quiet", "--no-checkout", "--",
                                     fs::absolute(repository).string(), workspace.string()});
  if (!cloned) return make_error(fmt::format("checkout of {}: {}", sha, cloned.error().message));
  auto checked_out = git(workspace, {"-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha});
  if (!checked_out) return make_error(fmt::format("checkout of {}: {}", sha, checked_out.error().message));
  return {};
}

Result<std::string> read_file_at_commit(const fs::path& repository, const std::string& sha,
                                        const std::string& path) {
  auto content = git(repository, {"show", fmt::format("{}:{}", sha, path)});
  if (!content) {
    return make_error(fmt::format("commit {} has no {} at the repository root", sha.substr(0, 12), path));
  }
  return content;
}

}  // namespace slipway
