// A small RAII wrapper over the SQLite C API, in the spirit of Laminar's:
//
//   db.stmt("SELECT id, name FROM jobs WHERE run_id = ?").bind(run_id)
//     .fetch<int64_t, std::string>([&](int64_t id, std::string name) { ... });
//
// Errors are values: a failed prepare or bind is remembered by the Statement and returned by
// exec()/fetch(), so a chain reads straight through and is checked once at the end. Messages
// are SQLite's own text ("database is locked"); callers add which operation failed.
//
// A Database is one connection, opened without SQLite's per-connection mutex: use it from one
// thread at a time. Statements are prepared once per SQL text and kept, then reset and their
// bindings cleared each time a Statement handle goes out of scope.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace slipway {

class Database;

/// One result row, valid only inside the fetch/each callback that received it.
class Row {
 public:
  explicit Row(sqlite3_stmt* statement) : statement_(statement) {}

  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;  // NULL reads as ""
  bool is_null(int column) const;

  template <typename T>
  T get(int column) const;

 private:
  sqlite3_stmt* statement_;
};

template <> inline int64_t Row::get<int64_t>(int column) const { return integer(column); }
template <> inline int Row::get<int>(int column) const { return static_cast<int>(integer(column)); }
template <> inline double Row::get<double>(int column) const { return real(column); }
template <> inline bool Row::get<bool>(int column) const { return integer(column) != 0; }
template <> inline std::string Row::get<std::string>(int column) const { return text(column); }

/// A prepared statement borrowed from the Database's cache (or owned, when the cached one is
/// already in use by an outer statement). Bind, then run it once with exec(), fetch() or each().
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Binds the values to parameters 1, 2, ... in order, continuing after any earlier bind().
  template <typename... Values>
  Statement& bind(const Values&... values) {
    (bind_value(++next_parameter_, values), ...);
    return *this;
  }

  /// Runs the statement to completion, ignoring any rows.
  Status exec();

  /// Calls on_row(Row) for each result row.
  Status each(const std::function<void(const Row&)>& on_row);

  /// Calls on_row(column0, column1, ...) for each result row, read as the given types.
  template <typename... Columns, typename OnRow>
  Status fetch(OnRow&& on_row) {
    return each([&](const Row& row) {
      call_with_columns<Columns...>(on_row, row, std::index_sequence_for<Columns...>{});
    });
  }

 private:
  friend class Database;
  // in_use: the cache slot's flag to clear when done; nullptr means this handle owns the
  // statement and finalizes it.
  Statement(sqlite3_stmt* statement, bool* in_use, Error error);

  void bind_value(int parameter, int64_t value);
  void bind_value(int parameter, int value) { bind_value(parameter, static_cast<int64_t>(value)); }
  void bind_value(int parameter, double value);
  void bind_value(int parameter, std::string_view value);
  void bind_value(int parameter, const std::string& value) {
    bind_value(parameter, std::string_view(value));
  }
  void bind_value(int parameter, const char* value) {
    bind_value(parameter, std::string_view(value));
  }
  void remember_bind_error(int code);

  template <typename... Columns, typename OnRow, size_t... Index>
  static void call_with_columns(OnRow& on_row, const Row& row, std::index_sequence<Index...>) {
    on_row(row.get<Columns>(static_cast<int>(Index))...);
  }

  sqlite3_stmt* statement_;
  bool* in_use_;
  Error error_;         // non-empty message: prepare or bind failed
  int next_parameter_ = 0;
};

/// One SQLite connection with a statement cache.
class Database {
 public:
  /// Opens (creating if needed) the file read-write. busy_timeout_ms: how long a statement
  /// waits for another connection's lock before failing with "database is locked".
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& file,
                                                int busy_timeout_ms);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// A statement for `sql`, prepared on first use and cached for the connection's lifetime.
  Statement stmt(std::string_view sql);

  /// Runs one or more ';'-separated statements without caching (schema scripts, pragmas).
  Status execute(std::string_view script);

  /// Runs `work` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it fails (or throws).
  /// IMMEDIATE takes the write lock up front, so two writers wait on the busy timeout instead
  /// of deadlocking when both try to upgrade a read transaction.
  Status transaction(const std::function<Status()>& work);

  int64_t last_insert_id() const;
  int64_t changes() const;        // rows touched by the last INSERT/UPDATE/DELETE
  std::string error_message() const;

 private:
  friend class Statement;
  struct CachedStatement {
    sqlite3_stmt* statement = nullptr;
    bool in_use = false;
  };

  explicit Database(sqlite3* connection) : connection_(connection) {}
  Statement prepare_uncached(std::string_view sql);

  sqlite3* connection_;
  std::unordered_map<std::string, CachedStatement> cache_;
};

}  // namespace slipway
