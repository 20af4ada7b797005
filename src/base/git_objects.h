// GitObjects: questions about one git repository's objects answered by one long-lived
// `git cat-file --batch-command`, instead of a git process per question. A no-op run used to
// start three (rev-parse for the branch's head, ls-tree and cat-file for its .slipway.yml), each
// costing more than the rest of the run's bookkeeping.
//
// What it promises:
// - answers are current: git resolves refs from the repository's files for every command and
//   rereads its packs when an object is not in the ones it knows, so a push after the process
//   started is seen;
// - a revision is sent only when it is one line of printable characters (a newline would be a
//   second command), and an answer is read with a deadline: a stuck git is killed, never waited
//   on forever;
// - "missing" is asked again of a new process before it is believed (the old one may sit in a
//   folder since removed and made again at the same path);
// - errors name the repository and the revision.
//
// GitObjects::of(path) hands out one shared instance per repository; an instance is thread-safe
// (one question at a time). Instances unused for a minute are dropped (their git stops) the
// next time any repository's objects are asked for: a server keeps at most one git per
// repository it has used recently, and one per repository at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace slipway {

struct GitObjectInfo {
  std::string id;    // the object's full hex id
  std::string type;  // commit, tree, blob, tag
  uint64_t size = 0;
};

// One entry of a tree.
struct GitTreeEntry {
  std::string mode;  // "100644", "100755", "120000" (symlink), "160000" (submodule), "40000" (tree)
  std::string id;
  std::string name;  // tree_entries() only: the entry's name in its tree
};

class GitObjects {
 public:
  static std::shared_ptr<GitObjects> of(const std::filesystem::path& repository);
  explicit GitObjects(std::filesystem::path repository) : repository_(std::move(repository)) {}
  ~GitObjects();

  // The object `revision` names (any rev-parse expression: "refs/heads/main^{commit}",
  // "SHA:path"); nullopt when it names nothing.
  Result<std::optional<GitObjectInfo>> info(std::string_view revision);
  // info(), believing a "missing" from the running git without asking a new one. For a caller
  // that fetches when told "missing": a wrong "missing" costs it a fetch it may not have needed,
  // where the second asking would cost a git start on every new commit.
  Result<std::optional<GitObjectInfo>> info_or_missing(std::string_view revision);
  // The entry named `name` in the root tree of `commit`; nullopt when there is none.
  Result<std::optional<GitTreeEntry>> root_entry(std::string_view commit, std::string_view name);
  // Starts its git now unless one runs, so that the first question does not wait for git to load
  // (for a caller with other work first: `slipway run` opens its store meanwhile). A failure is
  // left for the first question to report.
  void start_early();
  // Every entry of the tree `revision` names ("SHA^{tree}", a tree's id), in the tree's order.
  // Error when it names no tree.
  Result<std::vector<GitTreeEntry>> tree_entries(std::string_view revision);
  // The bytes of the object `id`, which must be `expected_size` long (as info() said).
  Result<std::string> contents(std::string_view id, uint64_t expected_size);

 private:
  struct Answer {
    std::optional<GitObjectInfo> object;
    std::string bytes;  // for `contents`
  };
  enum class Missing { ask_a_new_git, believe };
  Result<Answer> ask(std::string_view command, std::string_view revision, uint64_t max_bytes,
                     Missing missing = Missing::ask_a_new_git);
  Status start();
  void stop();
  std::string words_on_stderr();
  Status read_more(std::chrono::steady_clock::time_point deadline);
  Status read_exactly(std::string& into, size_t bytes);
  Result<std::string> read_line();

  std::filesystem::path repository_;
  std::mutex mutex_;
  std::unique_ptr<ChildProcess> git_;
  std::string pending_;  // read from git's stdout, not consumed yet
};

}  // namespace slipway
