#include "store/events.h"

#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {

Result<int64_t> append_event(Store& store, const EventRecord& event) {
  Database& db = store.database();
  auto statement = db.stmt("INSERT INTO events (kind, repository, run_id, payload, created_ms) "
                           "VALUES (?, ?, NULLIF(?, 0), ?, ?)");
  Status inserted = statement.bind(event.kind, event.repository, event.run_id, event.payload,
                                   event.created_ms ? event.created_ms : now_ms())
                        .exec();
  if (!inserted) return store_error("append event '" + event.kind + "'", inserted.error().message);
  return db.last_insert_id();
}

Result<int64_t> latest_event_id(Store& store) {
  int64_t latest = 0;
  Status read = store.database().stmt("SELECT IFNULL(MAX(id), 0) FROM events").fetch<int64_t>([&](int64_t id) {
    latest = id;
  });
  if (!read) return store_error("read the latest event", read.error().message);
  return latest;
}

Result<std::vector<EventRecord>> list_events(Store& store, int64_t after_id, int limit) {
  std::vector<EventRecord> events;
  Status read = store.database()
                    .stmt("SELECT id, kind, repository, IFNULL(run_id, 0), payload, created_ms FROM events "
                          "WHERE id > ? ORDER BY id LIMIT ?")
                    .bind(after_id, limit)
                    .each([&](const Row& row) {
                      events.push_back(EventRecord{row.integer(0), row.text(1), row.text(2), row.integer(3),
                                                   row.text(4), row.integer(5)});
                    });
  if (!read) return store_error("list events", read.error().message);
  return events;
}

}  // namespace slipway
