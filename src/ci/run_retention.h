// prune_runs: retention (RetentionConfig, the server's slipway.yml) applied to a data directory
// — what `slipway serve` does in the background (server/run_pruner.h) and `slipway runs prune`
// on demand. A run goes when it is finished, older than its repository's max_age and not among
// its keep_last newest: its records (jobs, steps, results, artifacts), then runs/<id>/ (logs,
// report, a workspace left behind). Folders under runs/ that no run record accounts for (a
// crash between the two, a store reset) go as well. A queued or running run is never touched.
//
// Removal is records first, files second: a run a reader can still find always has its files,
// and files whose removal failed are found again as leftovers by the next pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "ci/run_executor.h"
#include "spec/server_config.h"
#include "store/store.h"

namespace slipway {

struct PrunedRun {
  RunRecord run;        // id, repository, commit, branch, status, created and finished times
  uint64_t bytes = 0;   // its folder's size on disk
};

struct PruneReport {
  std::vector<PrunedRun> runs;                    // by repository, oldest first
  std::vector<std::filesystem::path> leftovers;   // run folders without a record
  uint64_t bytes = 0;                             // everything removed (or that would be)
  std::vector<std::string> problems;              // folders that could not be removed; the pass went on
};

struct PruneOptions {
  bool dry_run = false;   // report what would go, remove nothing
  int64_t now_ms = 0;     // 0: now (tests pass a clock)
};

// Errors: the store cannot be read or a run record cannot be deleted (the pass stops there;
// what was removed before stays removed).
Result<PruneReport> prune_runs(Store& store, const DataDirectory& data, const ServerConfig& config,
                               const PruneOptions& options = {});

}  // namespace slipway
