#include "store/outbox.h"

#include <fmt/core.h>

#include "base/enum_text.h"
#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {
namespace {

constexpr EnumText<OutboxState, 3> kStates = {{{
    {OutboxState::pending, "pending"},
    {OutboxState::delivered, "delivered"},
    {OutboxState::failed, "failed"},
}}};

constexpr std::string_view kColumns =
    "id, channel, kind, payload, created_ms, attempts, next_attempt_ms, state, finished_ms, last_error";

OutboxItem read_item(const Row& row) {
  return OutboxItem{row.integer(0), row.text(1),    row.text(2),     row.text(3), row.integer(4),
                    static_cast<int>(row.integer(5)), row.integer(6), outbox_state_from_text(row.text(7)),
                    row.integer(8),   row.text(9)};
}

// The head of each channel: its pending row with the lowest id.
constexpr std::string_view kHeads =
    "state = 'pending' AND id = (SELECT min(id) FROM outbox AS o WHERE o.channel = outbox.channel AND "
    "o.state = 'pending')";

}  // namespace

std::string_view to_text(OutboxState state) { return kStates.text(state); }

OutboxState outbox_state_from_text(std::string_view text) { return kStates.parse(text).value_or(OutboxState::failed); }

Result<int64_t> add_outbox_item(Store& store, const std::string& channel, const std::string& kind,
                                const std::string& payload) {
  Database& db = store.database();
  Status inserted = db.stmt("INSERT INTO outbox (channel, kind, payload, created_ms) VALUES (?, ?, ?, ?)")
                        .bind(channel, kind, payload, now_ms())
                        .exec();
  if (!inserted) return store_error("add_outbox_item", inserted.error().message);
  return db.last_insert_id();
}

Result<std::vector<OutboxItem>> due_outbox_items(Store& store, int64_t now) {
  static const std::string sql =
      fmt::format("SELECT {} FROM outbox WHERE {} AND next_attempt_ms <= ? ORDER BY id", kColumns, kHeads);
  return read_rows(store.database().stmt(sql).bind(now), "due_outbox_items", read_item);
}

Result<int64_t> next_outbox_attempt_ms(Store& store) {
  static const std::string sql = fmt::format("SELECT IFNULL(min(next_attempt_ms), 0) FROM outbox WHERE {}", kHeads);
  int64_t next = 0;
  Status read = store.database().stmt(sql).fetch<int64_t>([&](int64_t value) { next = value; });
  if (!read) return store_error("next_outbox_attempt_ms", read.error().message);
  return next;
}

Status mark_outbox_delivered(Store& store, int64_t id) {
  return store_status("mark_outbox_delivered",
                      store.database()
                          .stmt("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, finished_ms = ?, "
                                "last_error = '' WHERE id = ?")
                          .bind(now_ms(), id)
                          .exec());
}

Status mark_outbox_retry(Store& store, int64_t id, const std::string& error, int64_t next_attempt_ms) {
  return store_status("mark_outbox_retry",
                      store.database()
                          .stmt("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? "
                                "WHERE id = ?")
                          .bind(next_attempt_ms, error, id)
                          .exec());
}

Status mark_outbox_failed(Store& store, int64_t id, const std::string& error) {
  return store_status("mark_outbox_failed",
                      store.database()
                          .stmt("UPDATE outbox SET state = 'failed', attempts = attempts + 1, finished_ms = ?, "
                                "last_error = ? WHERE id = ?")
                          .bind(now_ms(), error, id)
                          .exec());
}

Result<std::vector<OutboxCount>> count_outbox(Store& store) {
  return read_rows(store.database().stmt(
                       "SELECT channel, state, count(*), CASE state WHEN 'pending' THEN min(created_ms) ELSE 0 END "
                       "FROM outbox GROUP BY channel, state ORDER BY channel, state"),
                   "count_outbox", [](const Row& row) {
                     return OutboxCount{row.text(0), outbox_state_from_text(row.text(1)), row.integer(2),
                                        row.integer(3)};
                   });
}

Result<std::vector<OutboxItem>> list_outbox(Store& store, OutboxState state, int limit) {
  static const std::string sql = fmt::format("SELECT {} FROM outbox WHERE state = ? ORDER BY id DESC LIMIT ?", kColumns);
  return read_rows(store.database().stmt(sql).bind(to_text(state), limit), "list_outbox", read_item);
}

Result<int64_t> load_outbox_cursor(Store& store, const std::string& name) {
  int64_t event_id = -1;
  Status read = store.database()
                    .stmt("SELECT event_id FROM outbox_cursors WHERE name = ?")
                    .bind(name)
                    .fetch<int64_t>([&](int64_t id) { event_id = id; });
  if (!read) return store_error("load_outbox_cursor", read.error().message);
  return event_id;
}

Status save_outbox_cursor(Store& store, const std::string& name, int64_t event_id) {
  return store_status("save_outbox_cursor",
                      store.database()
                          .stmt("INSERT INTO outbox_cursors (name, event_id) VALUES (?, ?) "
                                "ON CONFLICT (name) DO UPDATE SET event_id = excluded.event_id")
                          .bind(name, event_id)
                          .exec());
}

}  // namespace slipway
