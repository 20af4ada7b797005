// The schema's history as numbered, forward-only migrations. Migration N (counting from 1) takes
// a database from schema version N-1 to N; the version lives in `PRAGMA user_version`, which
// SQLite keeps in the file header. A released migration is never edited: a schema change is a
// new string appended to the list in migrations.cpp.
#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/sqlite_database.h"

namespace slipway {

/// Every migration in order; element i is migration i + 1.
const std::vector<std::string_view>& schema_migrations();

/// The version a database has once every migration this binary knows has run.
int latest_schema_version();

/// The version recorded in the file (0 for a new, empty database).
Result<int> read_schema_version(Database& database);

/// Applies the pending migrations, each in its own transaction together with the version bump,
/// so a crash leaves the database at some whole version. Returns the resulting version.
/// Refuses a database whose version is newer than latest_schema_version(): it was written by a
/// newer Slipway and this binary would misread it.
Result<int> migrate(Database& database);

}  // namespace slipway
