// WorkspaceTemplate: a repository's files at the commit one worker last ran, kept between that
// worker's runs, and a run's workspace mounted as an overlay over them.
//
// Why: a checkout writes every file of the commit. For a repository of 5 000 files that is
// 0.35 s on an idle disk and over a second on a busy one, for a push that changed one file. With
// a template, a run writes only the files that differ from the worker's previous run of the
// repository (`git diff-tree` names them, `git checkout-index` writes them, the template's own
// index records them), then mounts its workspace as an overlay: the template is the read-only
// lower layer and the run's writes go to an upper layer of its own. A step can change or delete any file without touching the template, and removing
// the workspace is unmounting it and deleting what the run wrote.
//
// What it promises:
// - one template per (worker, repository). A worker runs one job at a time and its workspace is
//   unmounted (WorkspaceGuard) before its next checkout, so a template never changes under a
//   mounted overlay (which the kernel does not allow);
// - the template's files belong to `owner`, the uid the worker's jobs run as, so that a job can
//   write them through the overlay as files of its own;
// - a template whose update did not finish (a crash, a failed git) is rebuilt from nothing: its
//   `commit` file is removed before every update and written last;
// - the template lives in the data directory, which no job can see; only the merged workspace is
//   mounted into a job's sandbox.
// It needs root (mounting) and a source the fast checkout reads (ci/git_checkout.h); without them
// the caller checks out in full, as before.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "base/result.h"

namespace slipway {

struct WorkspaceTemplate {
  std::filesystem::path folder;  // this worker's template of this repository
  uid_t owner = 0;               // the uid its files belong to
};

// True when this process may mount workspace overlays: it is root and the kernel has overlayfs.
bool workspace_overlays_available();

// Checks `sha` of `repository` out at `workspace` (which must not exist) as an overlay over the
// template, brought to `sha` first; the run's own layer goes in `layers`. The workspace's .git is
// the one checkout_commit() writes, with the template's index, so `git status` is clean. On an
// error nothing is left mounted and the caller may check out in full.
Status checkout_over_template(const WorkspaceTemplate& workspace_template, const std::filesystem::path& repository,
                              const std::string& sha, const std::filesystem::path& workspace,
                              const std::filesystem::path& layers);

// Removes what no worker will use again under `root` (DATA/templates): the folders of workers
// beyond `workers` (the concurrency was lowered), and in the others the templates of repositories
// not in `repositories` (removed from the configuration). Call before any worker runs. Returns the
// bytes it freed.
uint64_t remove_unused_templates(const std::filesystem::path& root, int workers,
                                 const std::set<std::string>& repositories);

// The upper layer of the overlay mounted at `workspace` (what was written over the template), as
// the kernel reports it in /proc/self/mountinfo; empty when no overlay is mounted there.
std::filesystem::path overlay_upper_layer(const std::filesystem::path& workspace);

// Unmounts the overlay at `workspace` if there is one (lazily: a process still inside keeps its
// view until it leaves); nothing otherwise.
void unmount_workspace(const std::filesystem::path& workspace);

}  // namespace slipway
