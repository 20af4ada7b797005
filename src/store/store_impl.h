// What the Store's .cpp files share: the connection behind the pimpl, and the one way every
// failure is reported ("store: <operation>: <SQLite's message>"). Private to src/store/.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include <fmt/core.h>

#include "base/result.h"
#include "store/sqlite_database.h"
#include "store/store.h"

namespace slipway {

struct Store::Impl {
  std::unique_ptr<Database> database;
  int schema_version = 0;
};

inline Error store_error(std::string_view operation, std::string_view cause) {
  return make_error(fmt::format("store: {}: {}", operation, cause));
}

inline Status store_status(std::string_view operation, const Status& status) {
  if (status) return {};
  return store_error(operation, status.error().message);
}

// A status stored by a newer version that this one does not know reads as failed: final, so
// nothing waits on it, and never mistaken for success.
inline RunStatus stored_run_status(const std::string& text) {
  return run_status_from_text(text).value_or(RunStatus::failed);
}

// For updates addressed by id: zero rows changed means the id does not exist, which is a caller
// bug worth surfacing rather than a silent no-op.
inline Status expect_one_change(std::string_view operation, Database& database,
                                std::string_view what, int64_t id) {
  if (database.changes() > 0) return {};
  return store_error(operation, fmt::format("no {} with id {}", what, id));
}

}  // namespace slipway
