#include "store/image_pushes.h"

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "store/events.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

EventRecord pushed_event(const ImagePushRecord& push, int64_t received_ms) {
  nlohmann::json payload = {{"registry", push.registry},
                            {"repository", push.repository},
                            {"tag", push.tag},
                            {"digest", push.digest}};
  // Registry names come from outside: replace invalid UTF-8 rather than fail to store the event.
  return EventRecord{0, "image.pushed", push.repository, 0,
                     payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), received_ms};
}

}  // namespace

Result<bool> record_image_push(Store& store, const ImagePushRecord& push) {
  Database& db = store.database();
  int64_t received_ms = push.received_ms ? push.received_ms : now_ms();
  bool stored = false;
  Status recorded = db.transaction([&]() -> Status {
    Status inserted = db.stmt("INSERT OR IGNORE INTO image_pushes "
                              "(event_id, registry, repository, tag, digest, media_type, received_ms) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)")
                          .bind(push.event_id, push.registry, push.repository, push.tag, push.digest,
                                push.media_type, received_ms)
                          .exec();
    if (!inserted) return inserted;
    if (db.changes() == 0) return {};  // seen before: the registry redelivered it
    auto event_id = append_event(store, pushed_event(push, received_ms));
    if (!event_id) return event_id.error();
    stored = true;
    return {};
  });
  if (!recorded) return store_error("record image push '" + push.event_id + "'", recorded.error().message);
  return stored;
}

Result<std::vector<ImagePushRecord>> list_image_pushes(Store& store, const std::string& repository, int limit) {
  std::vector<ImagePushRecord> pushes;
  Status read = store.database()
                    .stmt("SELECT event_id, registry, repository, tag, digest, media_type, received_ms "
                          "FROM image_pushes WHERE (? = '' OR repository = ?) "
                          "ORDER BY received_ms DESC, rowid DESC LIMIT ?")
                    .bind(repository, repository, limit)
                    .each([&](const Row& row) {
                      pushes.push_back(ImagePushRecord{row.text(0), row.text(1), row.text(2), row.text(3),
                                                       row.text(4), row.text(5), row.integer(6)});
                    });
  if (!read) return store_error("list image pushes", read.error().message);
  return pushes;
}

}  // namespace slipway
