// RepositoryMirrors: one bare mirror per remote repository, in DATA/mirrors/NAME.git, from which
// checkouts borrow their objects exactly as they do from a local repository. A mirror is
// fetched incrementally — branches, tags, and the forges' pull/merge-request heads
// (refs/pull/N/head, refs/merge-requests/N/head) — when a run needs a commit it does not hold
// yet, or a branch's newest head. Fetches of one repository are serialized (one git fetch at a
// time per mirror, and a second caller that needed the same commit finds it there afterwards);
// fetches of different repositories run at once.
//
// The credentials are server secrets (store/secret_store.h *_server), resolved once at open():
// a missing one refuses the server's start with the secret's name. SSH keys and known_hosts
// lines are written 0600 under DATA/remotes/NAME/; the data directory is hidden from every
// sandbox. Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "ci/git_remote.h"
#include "ci/mirror_http_fetch.h"
#include "ci/run_executor.h"
#include "spec/server_config.h"
#include "store/remote_heads.h"
#include "store/secret_store.h"

namespace slipway {

class RepositoryMirrors {
 public:
  // Every remote repository of `repositories` (local ones are not mirrored). Errors: a secret
  // that `auth:` names is not set (the message says how to set it), the store, a file that
  // cannot be written.
  static Result<std::unique_ptr<RepositoryMirrors>> open(const DataDirectory& data,
                                                         const std::vector<RepositoryConfig>& repositories,
                                                         SecretStore& secrets);

  // True when `repository` is a configured remote one.
  bool mirrors(const std::string& repository) const;
  std::vector<std::string> names() const;
  // DATA/mirrors/NAME.git (which exists once the first fetch ran).
  std::filesystem::path mirror_path(const std::string& repository) const;

  // The full sha of `commit`, or of `branch`'s head when `commit` is empty, in the mirror —
  // fetched first when the mirror lacks the commit, and always for a branch head (a newer one
  // may exist). Errors: the fetch's diagnosis (GitRemote::diagnose), or the commit or branch
  // being unknown to the remote too.
  Result<std::string> fetch_commit(const std::string& repository, const std::string& commit,
                                   const std::string& branch);
  // One incremental fetch (the mirror is created by the first).
  Status fetch(const std::string& repository);
  // Git's housekeeping of the mirror (`git maintenance run --auto`: packs loose objects once
  // there are many), when a fetch ran since the last time. A fetch does not do it itself: the
  // check alone starts a git, and a run waiting for its commit should not wait for it. The run
  // queue calls this after the run the fetch was for. Errors: git's, in words.
  Status maintain(const std::string& repository);
  // The remote's branch heads (`git ls-remote --heads`), for the poller.
  Result<BranchHeads> list_heads(const std::string& repository);
  // One `git ls-remote` of the remote: nothing when it answers, else the diagnosis.
  Status check(const std::string& repository);

 private:
  struct Mirror {
    GitRemote remote;
    std::filesystem::path path;
    std::mutex fetching;  // one fetch (or maintenance) at a time per mirror
    bool maintenance_due = false;  // under `fetching`
    MirrorHttpFetch http_fetch;    // under `fetching`: incremental https fetches, in process
  };
  Mirror* find(const std::string& repository) const;
  Status fetch_locked(Mirror& mirror);

  std::map<std::string, std::unique_ptr<Mirror>> mirrors_;
};

}  // namespace slipway
