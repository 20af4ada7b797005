#include "ci/workspace_template.h"

#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "base/files.h"
#include "base/git_objects.h"
#include "base/git_tree_diff.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "ci/git_checkout.h"
#include "ci/mount_table.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// The template's parts: the files, the git directory that indexes them (outside the tree, so no
// job ever sees it), and the commit the files are at, written last.
fs::path tree_of(const WorkspaceTemplate& t) { return t.folder / "tree"; }
fs::path git_dir_of(const WorkspaceTemplate& t) { return t.folder / "git"; }
fs::path commit_file_of(const WorkspaceTemplate& t) { return t.folder / "commit"; }

// Overlay's mount options separate layers with ':' and options with ','; a path holding either
// (or the escape character) cannot be passed safely.
bool mountable_path(const fs::path& path) { return path.string().find_first_of(",:\\") == std::string::npos; }

Result<std::string> git_in_template(const WorkspaceTemplate& t, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"git", "--git-dir", git_dir_of(t).string(), "--work-tree", tree_of(t).string()});
  return run_command_checked(arguments);
}

// A template from nothing: every file written, then given to the owner. Giving changes each
// file's ctime and uid, which the index recorded before: refresh it (a stat of every file), or the
// next update would rewrite every file and each run's `git status` re-read them all.
Status build_template(const WorkspaceTemplate& t, const std::string& sha) {
  if (auto read = git_in_template(t, {"read-tree", "--reset", "-u", sha}); !read) return read.error();
  if (Status given = give_tree_to(tree_of(t), t.owner); !given) return given;
  if (auto refreshed = git_in_template(t, {"update-index", "-q", "--refresh"}); !refreshed) return refreshed.error();
  return {};
}

// Takes a removed path's file out of the tree, then each folder above it that is left empty.
void remove_from_tree(const fs::path& tree, const std::string& path) {
  std::error_code error;
  fs::remove(tree / path, error);  // a file, a link, or a submodule's empty folder
  for (fs::path folder = fs::path(path).parent_path(); !folder.empty(); folder = folder.parent_path()) {
    if (!fs::remove(tree / folder, error)) break;  // not empty (or gone): the folders above stay
  }
}

// From the commit the template holds to `sha`, touching only what differs: the repository's
// running `git cat-file` names the paths (base/git_tree_diff.h), removed files leave the tree and
// the index (`update-index --force-remove`), and one `git checkout SHA -- PATHS` takes the others'
// new entries into the index and writes them (with git's checkout filters). Only those paths
// (and folders made for them) are given to the owner and re-read into the index. Neither
// commit's whole tree is read, nor any unchanged file looked at: two git processes for a push.
Status advance_template(const WorkspaceTemplate& t, const fs::path& repository, const std::string& from,
                        const std::string& sha) {
  auto changes = diff_commit_trees(*GitObjects::of(repository), from, sha);
  if (!changes) return changes.error();
  if (changes->empty()) return {};
  std::vector<std::string> removed = {"update-index", "--force-remove", "--"};
  // Literal paths (a name like ":(glob)*" is a file, not a pattern), and no hook runs. No
  // preload threads: they would stat ahead the entries a refresh reads, but a checkout of a few
  // paths refreshes none of the others, and starting them cost ~2.5 ms of its ~14 ms
  // (hyperfine, the forge bench's 5 000-file template).
  std::vector<std::string> checkout = {"--literal-pathspecs", "-c", "core.hooksPath=/dev/null", "-c",
                                       "core.preloadIndex=false", "checkout", sha, "--"};
  std::vector<std::string> written;
  for (const GitPathChange& change : *changes) {
    if (change.removed()) {
      removed.push_back(change.path);
      remove_from_tree(tree_of(t), change.path);
    } else {
      checkout.push_back(change.path);
      written.push_back(change.path);
    }
  }
  if (removed.size() > 3) {
    if (auto indexed = git_in_template(t, removed); !indexed) return indexed.error();
  }
  if (written.empty()) return {};
  if (auto checked_out = git_in_template(t, checkout); !checked_out) return checked_out.error();
  std::vector<std::string> reread = {"update-index", "--"};
  for (const std::string& path : written) {
    for (fs::path at = fs::path(path); !at.empty(); at = at.parent_path()) {
      if (Status given = give_path_to(tree_of(t) / at, t.owner); !given) return given;
    }
    std::error_code error;
    if (!fs::is_directory(fs::symlink_status(tree_of(t) / path, error))) reread.push_back(path);  // not a submodule
  }
  // Owners changed since checkout recorded the files: re-read them, or git would take them for
  // modified (and re-read them in every run's `git status`).
  if (reread.size() > 2) {
    if (auto refreshed = git_in_template(t, reread); !refreshed) return refreshed.error();
  }
  return {};
}

// Brings the template's files to `sha`. A template without its commit file (new, or an update
// that did not finish) starts from nothing, and so does one that cannot advance (its commit gone
// from the source after a force push and a gc, a file changed behind git's back).
Status update_template(const WorkspaceTemplate& t, const fs::path& repository, const std::string& sha) {
  auto current = read_file(commit_file_of(t));
  std::string from = current ? std::string(trim(*current)) : "";
  if (from == sha) return {};
  std::error_code error;
  fs::remove(commit_file_of(t), error);
  // Written each time: the source's refs and the path of its objects follow the repository.
  Status git_dir = write_checkout_git_directory(repository, sha, git_dir_of(t));
  if (git_dir && !from.empty() && advance_template(t, repository, from, sha)) {
    return write_file_atomically(commit_file_of(t), sha + "\n");
  }
  fs::remove_all(t.folder, error);
  for (const fs::path& folder : {git_dir_of(t), tree_of(t)}) {
    if (Status made = make_directories(folder); !made) return made;
  }
  if (Status written = write_checkout_git_directory(repository, sha, git_dir_of(t)); !written) return written;
  if (Status built = build_template(t, sha); !built) return built;
  return write_file_atomically(commit_file_of(t), sha + "\n");
}

Status mount_overlay(const fs::path& lower, const fs::path& layers, const fs::path& workspace) {
  for (const char* part : {"upper", "work"}) {
    if (Status made = make_directories(layers / part); !made) return made;
  }
  if (Status made = make_directories(workspace); !made) return made;
  std::string options = fmt::format("lowerdir={},upperdir={},workdir={}", lower.string(), (layers / "upper").string(),
                                    (layers / "work").string());
  if (::mount("overlay", workspace.c_str(), "overlay", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return make_error(fmt::format("cannot mount the workspace overlay on {}: {}", workspace.string(), errno_text(errno)));
  }
  return {};
}

}  // namespace

bool workspace_overlays_available() {
  if (::geteuid() != 0) return false;
  std::ifstream filesystems("/proc/filesystems");
  std::string line;
  while (std::getline(filesystems, line)) {
    if (trim(line) == "nodev\toverlay" || line.ends_with("\toverlay")) return true;
  }
  return false;
}

Status checkout_over_template(const WorkspaceTemplate& workspace_template, const fs::path& repository,
                              const std::string& sha, const fs::path& workspace, const fs::path& layers) {
  if (fs::exists(workspace)) {
    return make_error(fmt::format("workspace {} already exists; a run always starts in a fresh one", workspace.string()));
  }
  for (const fs::path& path : {workspace_template.folder, layers}) {
    if (!mountable_path(path)) return make_error(fmt::format("{}: a path an overlay cannot name", path.string()));
  }
  if (Status updated = update_template(workspace_template, repository, sha); !updated) {
    return make_error(fmt::format("the workspace template at {}: {}", workspace_template.folder.string(),
                                  updated.error().message));
  }
  if (Status mounted = mount_overlay(tree_of(workspace_template), layers, workspace); !mounted) return mounted;
  // The workspace's .git lands in the run's layer; the template's index describes the files the
  // overlay shows (same inodes, owners and times), so git finds the tree clean without a re-read.
  Status git_dir = write_checkout_git_directory(repository, sha, workspace / ".git");
  std::error_code error;
  if (git_dir) fs::copy_file(git_dir_of(workspace_template) / "index", workspace / ".git" / "index", error);
  if (!git_dir || error) {
    unmount_workspace(workspace);
    return make_error(fmt::format("the workspace's .git: {}", git_dir ? error.message() : git_dir.error().message));
  }
  return {};
}

uint64_t remove_unused_templates(const fs::path& root, int workers, const std::set<std::string>& repositories) {
  uint64_t freed = 0;
  auto remove = [&freed](const fs::path& folder) {
    uint64_t bytes = folder_bytes(folder);
    std::error_code error;
    fs::remove_all(folder, error);
    if (!error) freed += bytes;
  };
  std::error_code error;
  for (fs::directory_iterator worker(root, error), end; !error && worker != end; worker.increment(error)) {
    bool in_use = false;
    for (int i = 0; i < workers && !in_use; ++i) in_use = worker->path().filename() == "worker-" + std::to_string(i);
    if (!in_use) {
      remove(worker->path());
      continue;
    }
    std::error_code inner;
    for (fs::directory_iterator kept(worker->path(), inner); !inner && kept != end; kept.increment(inner)) {
      if (repositories.count(kept->path().filename().string()) == 0) remove(kept->path());
    }
  }
  return freed;
}

fs::path overlay_upper_layer(const fs::path& workspace) {
  for (const MountEntry& mount : read_mount_table()) {
    if (mount.mount_point != workspace.string() || mount.fs_type != "overlay") continue;
    for (const std::string& option : split(mount.super_options, ',')) {
      if (option.starts_with("upperdir=")) return unescape_mountinfo(option.substr(9));
    }
  }
  return {};
}

void unmount_workspace(const fs::path& workspace) { ::umount2(workspace.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW); }

}  // namespace slipway
