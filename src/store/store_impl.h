// What the Store's .cpp files share: the connection behind the pimpl, and the one way every
// failure is reported ("store: <operation>: <SQLite's message>"). Private to src/store/.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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

template <typename T>
struct RowDecode {  // a reader that cannot fail: it returns the record itself
  using Record = T;
};
template <typename T>
struct RowDecode<Result<T>> {  // a reader that can fail (a JSON column that does not parse)
  using Record = T;
};

// Runs `statement` (bound already) and collects each row as `read` makes it into a record.
// `read` returns the record, or a Result of it where a column must decode: then a row that does
// not decode fails the whole read with the first such row's message rather than drop out of the
// list unseen. Every failure reads "store: <operation>: <cause>".
template <typename Read>
auto read_rows(Statement& statement, std::string_view operation, Read read)
    -> Result<std::vector<typename RowDecode<std::invoke_result_t<Read&, const Row&>>::Record>> {
  using Returned = std::invoke_result_t<Read&, const Row&>;
  std::vector<typename RowDecode<Returned>::Record> records;
  std::optional<Error> unreadable;  // the first row that did not decode
  Status status = statement.each([&](const Row& row) {
    if constexpr (std::is_same_v<Returned, typename RowDecode<Returned>::Record>) {
      records.push_back(read(row));
    } else if (auto record = read(row)) {
      records.push_back(std::move(*record));
    } else if (!unreadable) {
      unreadable = record.error();
    }
  });
  if (!status) return store_error(operation, status.error().message);
  if (unreadable) return store_error(operation, unreadable->message);
  return records;
}

template <typename Read>
auto read_rows(Statement&& statement, std::string_view operation, Read read) {
  return read_rows(statement, operation, std::move(read));
}

// As read_rows, for a query of one row at most: the first row's record, or nullopt for none.
template <typename Read>
auto read_first(Statement& statement, std::string_view operation, Read read)
    -> Result<std::optional<typename RowDecode<std::invoke_result_t<Read&, const Row&>>::Record>> {
  using Record = typename RowDecode<std::invoke_result_t<Read&, const Row&>>::Record;
  auto records = read_rows(statement, operation, std::move(read));
  if (!records) return records.error();
  if (records->empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(records->front()));
}

template <typename Read>
auto read_first(Statement&& statement, std::string_view operation, Read read) {
  return read_first(statement, operation, std::move(read));
}

}  // namespace slipway
