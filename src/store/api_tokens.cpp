#include "store/api_tokens.h"

#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

constexpr const char* kTokenColumns = "id, name, role, token_hash, created_ms, last_used_ms";

ApiTokenRecord token_from_row(const Row& row) {
  return ApiTokenRecord{row.integer(0), row.text(1), row.text(2), row.text(3), row.integer(4), row.integer(5)};
}

}  // namespace

Result<int64_t> create_api_token(Store& store, const ApiTokenRecord& token) {
  Database& db = store.database();
  Status inserted = db.stmt("INSERT INTO api_tokens (name, role, token_hash, created_ms) VALUES (?, ?, ?, ?)")
                        .bind(token.name, token.role, token.token_hash, token.created_ms ? token.created_ms : now_ms())
                        .exec();
  if (!inserted) return store_error("create api token '" + token.name + "'", inserted.error().message);
  return db.last_insert_id();
}

Result<std::optional<ApiTokenRecord>> find_api_token_by_hash(Store& store, const std::string& token_hash) {
  std::optional<ApiTokenRecord> found;
  Status read = store.database()
                    .stmt(fmt::format("SELECT {} FROM api_tokens WHERE token_hash = ?", kTokenColumns))
                    .bind(token_hash)
                    .each([&](const Row& row) { found = token_from_row(row); });
  if (!read) return store_error("find api token", read.error().message);
  return found;
}

Status touch_api_token(Store& store, int64_t id, int64_t used_ms) {
  return store_status("touch api token",
                      store.database().stmt("UPDATE api_tokens SET last_used_ms = ? WHERE id = ?").bind(used_ms, id).exec());
}

Result<int64_t> count_api_tokens_with_role(Store& store, const std::string& role) {
  int64_t count = 0;
  Status read = store.database().stmt("SELECT COUNT(*) FROM api_tokens WHERE role = ?").bind(role).fetch<int64_t>(
      [&](int64_t n) { count = n; });
  if (!read) return store_error("count api tokens", read.error().message);
  return count;
}

Result<std::vector<ApiTokenRecord>> list_api_tokens(Store& store) {
  std::vector<ApiTokenRecord> tokens;
  Status read = store.database()
                    .stmt(fmt::format("SELECT {} FROM api_tokens ORDER BY id", kTokenColumns))
                    .each([&](const Row& row) { tokens.push_back(token_from_row(row)); });
  if (!read) return store_error("list api tokens", read.error().message);
  return tokens;
}

Result<bool> delete_api_token(Store& store, int64_t id) {
  Status deleted = store.database().stmt("DELETE FROM api_tokens WHERE id = ?").bind(id).exec();
  if (!deleted) return store_error("delete api token", deleted.error().message);
  return store.database().changes() > 0;
}

}  // namespace slipway
