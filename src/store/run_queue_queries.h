// The queries the server's run queue needs beyond Store's own: runs by status in queue order,
// the few targeted updates it makes while runs wait, recovery after a crash, and the lookup that
// keeps polling from queuing a commit a webhook already queued.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

// Ids of the runs in `status`, oldest first (the queue's order).
Result<std::vector<int64_t>> run_ids_in_status(Store& store, RunStatus status);

// Sets a queued run's reason (why it waits). No-op when the run is no longer queued.
Status set_queued_reason(Store& store, int64_t run_id, const std::string& reason);
// A queued run's commit, once a fetch resolved it (a remote repository's branch head).
Status set_queued_commit(Store& store, int64_t run_id, const std::string& sha);

// A queued run becomes "cancelled" with `reason`, finished now. Returns false (and changes
// nothing) when the run was not queued.
Result<bool> cancel_queued_run(Store& store, int64_t run_id, const std::string& reason);

// A run interrupted by the server's death: the run and its running jobs and steps become
// "failed" with `reason`; its jobs and steps that never started become "skipped". One
// transaction.
Status fail_interrupted_run(Store& store, int64_t run_id, const std::string& reason);

// The newest run of this repository, branch and commit created at or after `since_ms`, if any.
Result<std::optional<int64_t>> find_recent_run(Store& store, const std::string& repository,
                                               const std::string& branch, const std::string& commit,
                                               int64_t since_ms);

}  // namespace slipway
