// The run's events ("run.queued", "run.started", "run.finished"): one payload shape for all of
// them, and the end of a run recorded together with its event, so that a reader who sees a run
// finished (the API, a test, the forge status feeder) also finds the event that says so.
#pragma once

#include <string_view>

#include "base/result.h"
#include "store/events.h"
#include "store/store.h"

namespace slipway {

// The event about `run`; its payload carries the status, reason, trigger, branch and commit.
EventRecord run_event(std::string_view kind, const RunRecord& run);

// Appends run_event(kind, run); a failure is logged, not returned: the run goes on either way.
void record_run_event(Store& store, std::string_view kind, const RunRecord& run);

// Stores the run's final state (Store::update_run) and its "run.finished" event in one
// transaction: neither is seen without the other, and a crash keeps both or neither.
Status record_run_finished(Store& store, const RunRecord& run);

}  // namespace slipway
