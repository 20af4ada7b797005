// Remote heads: the branch heads the poller last saw on each repository's remote, kept in the
// store so that commits pushed while the server was down are noticed at the first poll after
// its restart. A repository polled once has a row for the empty branch name "" (never a real
// branch): it tells "seen, with no branches yet" from "never seen".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

using BranchHeads = std::map<std::string, std::string>;  // branch name -> commit sha

struct RemoteHeads {
  bool seen = false;        // polled at least once
  BranchHeads heads;
};

// What was recorded for `repository`; `seen` false when it was never polled.
Result<RemoteHeads> load_remote_heads(Store& store, const std::string& repository);

// Replaces the repository's recorded heads with `heads` (branches gone from the remote are
// forgotten), in one transaction, and marks the repository seen.
Status save_remote_heads(Store& store, const std::string& repository, const BranchHeads& heads,
                         int64_t seen_ms);

}  // namespace slipway
