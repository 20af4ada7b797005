// The store's side of retention (ci/run_retention.h decides and removes): which repositories
// have runs, and which finished runs of one repository a policy lets go. Removing a run's
// records is Store::delete_run (its jobs, steps, results and artifacts cascade with it; events
// stay, as the history of what happened).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

// Every repository name that has runs, sorted.
Result<std::vector<std::string>> run_repositories(Store& store);

// Runs of `repository` with an id above `after_id`, oldest first, at most `limit`, that are
// finished (neither queued nor running), finished — or, never started, created — before
// `before_ms`, and not among its `keep_last` newest runs (counted over all its runs, queued and
// running ones included). Page with `after_id` = the last id of the previous page.
Result<std::vector<RunRecord>> expired_runs(Store& store, const std::string& repository, int keep_last,
                                            int64_t before_ms, int64_t after_id, int limit);

}  // namespace slipway
