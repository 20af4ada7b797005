#include "ci/git_checkout.h"

#include <fmt/core.h>

#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include "base/files.h"
#include "base/git_objects.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "ci/git_ref_files.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

Result<std::string> git(const fs::path& repository, std::vector<std::string> arguments) {
  std::vector<std::string> argv = {"git", "-C", repository.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return run_command_checked(argv);
}

}  // namespace

namespace {

// A source repository whose layout the fast checkout understands: a plain git directory (a work
// tree's `.git` or a bare repository) with the files-backend refs and SHA-1 objects.
struct SourceLayout {
  fs::path url;      // what `origin` names, as `git clone` would record it
  fs::path git_dir;  // holds HEAD, objects/, refs/ and packed-refs
};

// True when `text` can be a git config value unquoted except for the surrounding quotes.
bool config_safe(std::string_view text) {
  return text.find_first_of("\"\\\n") == std::string_view::npos;
}

// True when `text` holds `lower_needle` (given in lower case) in any case.
bool contains_ignoring_case(std::string_view text, std::string_view lower_needle) {
  std::string lowered(text);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered.find(lower_needle) != std::string::npos;
}

// The source's layout, or nothing when it is anything the fast path does not handle (a gitfile,
// a linked worktree, reftable refs, another object format, a path git's config cannot hold):
// those go through `git clone`, which knows them all.
std::optional<SourceLayout> files_layout(const fs::path& repository) {
  std::error_code error;
  SourceLayout layout{fs::absolute(repository).lexically_normal(), {}};
  if (fs::is_directory(layout.url / ".git", error)) {
    layout.git_dir = layout.url / ".git";
  } else if (fs::is_directory(layout.url / "objects", error) && fs::is_regular_file(layout.url / "HEAD", error)) {
    layout.git_dir = layout.url;  // bare
  } else {
    return std::nullopt;
  }
  if (fs::exists(layout.git_dir / "commondir", error)) return std::nullopt;
  auto config = read_file(layout.git_dir / "config");
  // An [extensions] section (reftable, sha256, partial clones…) changes what the files mean.
  if (!config || contains_ignoring_case(*config, "[extensions")) return std::nullopt;
  if (!config_safe(layout.url.string()) || !config_safe(layout.git_dir.string())) return std::nullopt;
  return layout;
}

// As files_layout(), for a checkout of `sha`: a SHA-256 id (64 hex digits) goes through git.
std::optional<SourceLayout> fast_path_layout(const fs::path& repository, const std::string& sha) {
  if (sha.size() != 40) return std::nullopt;
  return files_layout(repository);
}

// One branch's sha, as git reads it: the loose ref over the packed one. Nothing when the branch
// has no commit yet, or its name could step out of refs/ (git never writes such a HEAD).
std::optional<std::string> branch_sha(const fs::path& git_dir, std::string_view branch) {
  if (branch.empty() || branch.find("..") != std::string_view::npos || branch.front() == '/') return std::nullopt;
  const std::string ref = "refs/heads/" + std::string(branch);
  if (auto loose = read_file(git_dir / ref); loose && is_hex_sha(trim(*loose))) return std::string(trim(*loose));
  std::map<std::string, std::string> packed = read_packed_refs(git_dir);
  auto found = packed.find(ref);
  if (found == packed.end()) return std::nullopt;
  return found->second;
}

// What `git clone` records of the source's refs: tags as they are, branches as origin's
// remote-tracking branches. No peeled values are written ("sorted" only), so git peels
// annotated tags itself when it needs to.
std::string packed_refs_for_clone(const std::map<std::string, std::string>& source_refs) {
  std::map<std::string, std::string> mapped;
  for (const auto& [name, sha] : source_refs) {
    if (name.rfind("refs/heads/", 0) == 0) {
      mapped["refs/remotes/origin/" + name.substr(11)] = sha;
    } else if (name.rfind("refs/tags/", 0) == 0) {
      mapped[name] = sha;
    }
  }
  std::string text = "# pack-refs with: sorted \n";
  for (const auto& [name, sha] : mapped) text += fmt::format("{} {}\n", sha, name);
  return text;
}

// A git directory's HEAD as written: "ref: refs/heads/NAME", or a detached sha; "" unreadable.
std::string head_text(const fs::path& git_dir) {
  auto head = read_file(git_dir / "HEAD");
  return head ? std::string(trim(*head)) : "";
}

// The branch HEAD's text names ("ref: refs/heads/NAME"), or "" when it is detached.
std::string branch_of_head(std::string_view head) {
  return head.starts_with("ref: refs/heads/") ? std::string(head.substr(16)) : "";
}

std::string head_branch(const fs::path& git_dir) { return branch_of_head(head_text(git_dir)); }

Status write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return make_error(fmt::format("cannot write {}", path.string()));
  return {};
}

// The workspace's .git, written directly rather than by `git clone`: a clone costs four
// processes (git, sh, upload-pack, then git checkout) and a copy of the hook samples, most of a
// no-op run's time. The objects are the source's, through objects/info/alternates (what
// `clone --shared` does): nothing is copied, and objects a step creates stay in the workspace.
Status write_git_directory(const SourceLayout& source, const std::string& sha, const fs::path& dot_git) {
  std::error_code error;
  for (const char* dir : {"objects/info", "refs/heads", "refs/tags", "refs/remotes/origin"}) {
    fs::create_directories(dot_git / dir, error);
    if (error) return make_error(fmt::format("cannot create {}: {}", (dot_git / dir).string(), error.message()));
  }
  std::string config = fmt::format(
      "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
      "\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = \"{}\"\n"
      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
      source.url.string());
  const std::string branch = head_branch(source.git_dir);
  std::vector<std::pair<fs::path, std::string>> files = {
      {dot_git / "HEAD", sha + "\n"},  // detached at the commit
      {dot_git / "config", std::move(config)},
      {dot_git / "objects/info/alternates", (source.git_dir / "objects").string() + "\n"},
      {dot_git / "packed-refs", packed_refs_for_clone(read_refs(source.git_dir, {"refs/heads", "refs/tags"}))},
  };
  if (!branch.empty()) {
    files.push_back({dot_git / "refs/remotes/origin/HEAD", fmt::format("ref: refs/remotes/origin/{}\n", branch)});
  }
  for (const auto& [path, content] : files) {
    if (Status written = write_file(path, content); !written) return written;
  }
  return {};
}

Status clone_and_checkout(const fs::path& repository, const std::string& sha, const fs::path& workspace) {
  auto cloned = run_command_checked({"git", "clone", "--quiet", "--no-checkout", "--",
                                     fs::absolute(repository).string(), workspace.string()});
  if (!cloned) return cloned.error();
  auto checked_out = git(workspace, {"-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha});
  if (!checked_out) return checked_out.error();
  return {};
}

Status fast_checkout(const SourceLayout& source, const std::string& sha, const fs::path& workspace) {
  if (Status written = write_git_directory(source, sha, workspace / ".git"); !written) return written;
  // One process fills the index and the files, with the same attributes and filters as a
  // checkout; like checkout, it fails when the commit is not in the repository.
  auto read = git(workspace, {"read-tree", "--reset", "-u", sha});
  if (!read) return read.error();
  return {};
}

// The branch HEAD names in `repository` ("" when detached): read from its HEAD file where the
// layout is one the fast checkout reads, else asked of git (a linked worktree, a gitfile).
std::string checked_out_branch(const fs::path& repository, const std::string& sha) {
  if (std::optional<SourceLayout> layout = fast_path_layout(repository, sha)) return head_branch(layout->git_dir);
  auto branch = git(repository, {"symbolic-ref", "--quiet", "--short", "HEAD"});
  return branch ? std::string(trim(*branch)) : "";
}

// HEAD read from the repository's files, as `slipway run` asks by default: its branch's ref, or
// the sha of a detached HEAD. A branch ref always names a commit (git refuses anything else
// there), so no git process has to start before the checkout can. Nothing when the layout or
// HEAD is one only git reads (or no commit yet): then git answers, with its errors.
std::optional<CommitInfo> head_from_files(const fs::path& repository) {
  std::optional<SourceLayout> layout = files_layout(repository);
  if (!layout) return std::nullopt;
  const std::string head = head_text(layout->git_dir);
  if (is_hex_sha(head)) return CommitInfo{head, ""};
  std::string branch = branch_of_head(head);
  auto sha = branch_sha(layout->git_dir, branch);
  if (!sha) return std::nullopt;
  return CommitInfo{std::move(*sha), std::move(branch)};
}

}  // namespace

// HEAD from the files where they say it plainly; anything else through the repository's
// long-lived `git cat-file` (base/git_objects.h), which the run reads its .slipway.yml through
// next: no git process per question.
Result<CommitInfo> resolve_commit(const fs::path& repository, const std::string& revision) {
  if (revision == "HEAD") {
    if (std::optional<CommitInfo> head = head_from_files(repository)) return std::move(*head);
  }
  auto objects = GitObjects::of(repository);
  auto found = objects->info(revision + "^{commit}");
  if (!found || !*found) {
    // Only now tell the two failures apart; --git-dir answers for bare repositories too.
    if (!git(repository, {"rev-parse", "--git-dir"})) {
      return make_error(fmt::format("{} is not a git repository (run `git init` and commit, or pass the "
                                    "repository's folder)", repository.string()));
    }
    if (!found) return make_error(fmt::format("{}: {}", repository.string(), found.error().message));
    return make_error(fmt::format("{}: no commit '{}' (is anything committed yet?)", repository.string(), revision));
  }
  CommitInfo info;
  info.sha = (*found)->id;
  auto head = objects->info("HEAD");
  if (head && *head && (*head)->id == info.sha) info.branch = checked_out_branch(repository, info.sha);
  return info;
}

Status checkout_commit(const fs::path& repository, const std::string& sha, const fs::path& workspace) {
  if (fs::exists(workspace)) {
    return make_error(fmt::format("workspace {} already exists; a run always starts in a fresh one",
                                  workspace.string()));
  }
  std::optional<SourceLayout> source = fast_path_layout(repository, sha);
  Status done = source ? fast_checkout(*source, sha, workspace) : clone_and_checkout(repository, sha, workspace);
  if (!done) return make_error(fmt::format("checkout of {}: {}", sha, done.error().message));
  return {};
}

Status write_checkout_git_directory(const fs::path& repository, const std::string& sha, const fs::path& dot_git) {
  std::optional<SourceLayout> source = fast_path_layout(repository, sha);
  if (!source) return make_error(fmt::format("{}: a layout only `git clone` reads", repository.string()));
  return write_git_directory(*source, sha, dot_git);
}

Status renew_git_directory(const fs::path& repository, const std::string& sha, const fs::path& workspace) {
  const fs::path dot_git = workspace / ".git";
  std::error_code error;
  fs::remove_all(dot_git, error);  // a symlink goes as a link: nothing it names is touched
  if (error) return make_error(fmt::format("cannot remove {}: {}", dot_git.string(), error.message()));
  Status renewed;
  if (fast_path_layout(repository, sha)) {
    renewed = write_checkout_git_directory(repository, sha, dot_git);
  } else {
    // What `git clone` makes for the layouts the fast path does not know, moved in beside the files.
    const fs::path scratch = workspace.parent_path() / "git-renewed";
    fs::remove_all(scratch, error);
    auto cloned = run_command_checked({"git", "clone", "--quiet", "--no-checkout", "--",
                                       fs::absolute(repository).string(), scratch.string()});
    if (cloned) fs::rename(scratch / ".git", dot_git, error);
    fs::remove_all(scratch, error);
    renewed = !cloned ? Status(cloned.error()) : write_file(dot_git / "HEAD", sha + "\n");
    if (renewed && !fs::is_directory(dot_git)) renewed = make_error("the clone made no .git to move in");
  }
  if (!renewed) return make_error(fmt::format("cannot renew {}: {}", dot_git.string(), renewed.error().message));
  return {};
}

Status merge_branch_into_workspace(const fs::path& workspace, const std::string& branch) {
  std::string ref = "refs/remotes/origin/" + branch;
  // No user configuration may sign, edit or hook this merge: identity and behaviour are given.
  auto merged = git(workspace, {"-c", "user.name=Slipway", "-c", "user.email=slipway@localhost", "-c",
                                "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "merge", "--no-ff",
                                "--no-edit", "--quiet", "-m", "Merge " + branch + " (tested by Slipway)",
                                "--end-of-options", ref});
  if (merged) return {};
  auto conflicts = git(workspace, {"diff", "--name-only", "--diff-filter=U"});
  std::string files = conflicts ? std::string(trim(*conflicts)) : "";
  for (char& c : files) c = c == '\n' ? ' ' : c;
  if (!files.empty()) {
    return make_error(fmt::format("the pull request does not merge into '{}': conflicts in {}; rebase it, or test "
                                  "its head (pull_requests: {{ test: head }})", branch, files));
  }
  return make_error(fmt::format("cannot merge '{}' into the pull request: {}", branch, merged.error().message));
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
