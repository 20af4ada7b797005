// The webhook_deliveries table: every git-host delivery id seen, so that a sender's retry of a
// delivery we already acted on starts no second run. A delivery is recorded in the same
// transaction as its "push.received" event (DESIGN §8: acknowledged only once stored).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "store/events.h"
#include "store/store.h"

namespace slipway {

struct DeliveryOutcome {
  bool duplicate = false;   // the id was already recorded: nothing was written
  int64_t run_id = 0;       // for a duplicate, the run its first copy queued (0: none yet)
  int64_t event_id = 0;     // for a new delivery, the event recorded with it
};

// INSERT OR IGNORE of `delivery_id` for `repository` and, when it is new, `event` — both or
// neither. Safe against two copies arriving at once: the write lock makes one the duplicate.
Result<DeliveryOutcome> record_delivery(Store& store, const std::string& delivery_id,
                                        const std::string& repository, const EventRecord& event);

// Links a recorded delivery to the run it queued.
Status set_delivery_run(Store& store, const std::string& delivery_id, int64_t run_id);

// Removes a delivery whose run could not be queued, so that the sender's redelivery is tried
// again instead of being dropped as a duplicate. Its event stays: it did arrive.
Status forget_delivery(Store& store, const std::string& delivery_id);

}  // namespace slipway
