#include "store/webhook_deliveries.h"

#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {
namespace {

Result<int64_t> earlier_run(Database& db, const std::string& delivery_id) {
  int64_t run_id = 0;
  Status read = db.stmt("SELECT IFNULL(run_id, 0) FROM webhook_deliveries WHERE delivery_id = ?")
                    .bind(delivery_id)
                    .fetch<int64_t>([&](int64_t id) { run_id = id; });
  if (!read) return read.error();
  return run_id;
}

}  // namespace

Result<DeliveryOutcome> record_delivery(Store& store, const std::string& delivery_id,
                                        const std::string& repository, const EventRecord& event) {
  Database& db = store.database();
  DeliveryOutcome outcome;
  Status recorded = db.transaction([&]() -> Status {
    Status inserted = db.stmt("INSERT OR IGNORE INTO webhook_deliveries (delivery_id, repository, received_ms) "
                              "VALUES (?, ?, ?)")
                          .bind(delivery_id, repository, now_ms())
                          .exec();
    if (!inserted) return inserted;
    if (db.changes() == 0) {
      outcome.duplicate = true;
      auto run_id = earlier_run(db, delivery_id);
      if (!run_id) return run_id.error();
      outcome.run_id = *run_id;
      return {};
    }
    auto event_id = append_event(store, event);
    if (!event_id) return event_id.error();
    outcome.event_id = *event_id;
    return {};
  });
  if (!recorded) return store_error("record webhook delivery", recorded.error().message);
  return outcome;
}

Status set_delivery_run(Store& store, const std::string& delivery_id, int64_t run_id) {
  return store_status("link webhook delivery to its run",
                      store.database()
                          .stmt("UPDATE webhook_deliveries SET run_id = ? WHERE delivery_id = ?")
                          .bind(run_id, delivery_id)
                          .exec());
}

Status forget_delivery(Store& store, const std::string& delivery_id) {
  return store_status("forget webhook delivery",
                      store.database()
                          .stmt("DELETE FROM webhook_deliveries WHERE delivery_id = ?")
                          .bind(delivery_id)
                          .exec());
}

}  // namespace slipway
