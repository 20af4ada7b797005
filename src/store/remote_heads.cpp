#include "store/remote_heads.h"

#include "store/sqlite_database.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

// The row that marks a repository as seen; "" can never be a branch's name.
constexpr std::string_view kSeenMarker = "";

}  // namespace

Result<RemoteHeads> load_remote_heads(Store& store, const std::string& repository) {
  RemoteHeads result;
  Status read = store.database()
                    .stmt("SELECT branch, commit_sha FROM remote_heads WHERE repository = ?")
                    .bind(repository)
                    .fetch<std::string, std::string>([&](std::string branch, std::string sha) {
                      if (branch == kSeenMarker) {
                        result.seen = true;
                      } else {
                        result.heads.emplace(std::move(branch), std::move(sha));
                      }
                    });
  if (!read) return store_error("load_remote_heads", read.error().message);
  return result;
}

Status save_remote_heads(Store& store, const std::string& repository, const BranchHeads& heads,
                         int64_t seen_ms) {
  Database& db = store.database();
  Status saved = db.transaction([&]() -> Status {
    if (Status cleared = db.stmt("DELETE FROM remote_heads WHERE repository = ?").bind(repository).exec(); !cleared) {
      return cleared;
    }
    auto insert = [&](std::string_view branch, std::string_view sha) {
      return db.stmt("INSERT INTO remote_heads (repository, branch, commit_sha, seen_ms) VALUES (?, ?, ?, ?)")
          .bind(repository, branch, sha, seen_ms)
          .exec();
    };
    if (Status marked = insert(kSeenMarker, ""); !marked) return marked;
    for (const auto& [branch, sha] : heads) {
      if (Status inserted = insert(branch, sha); !inserted) return inserted;
    }
    return {};
  });
  return store_status("save_remote_heads", saved);
}

}  // namespace slipway
