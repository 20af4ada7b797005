#include "store/sqlite_database.h"

#include <sqlite3.h>

#include <mutex>

namespace slipway {

namespace {

std::string message_of(sqlite3* connection) {
  return connection ? sqlite3_errmsg(connection) : "out of memory";
}

// A server keeps a dozen connections open (each worker, the outbox, the pruner, the poller, the
// HTTP pool...), most of them idle most of the time. SQLite's defaults give each one, at its
// first statement, a page cache preallocated for 20 pages (~87 KiB) and a lookaside arena of
// 1200-byte slots (~48 KiB), written through at once: a third of an idle server's heap.
// Connections here read a few pages per statement, and the page cache still grows on demand
// up to cache_size, so neither preallocation buys anything measurable (bench/memory.sh ran as
// many no-op runs a second with and without). Process-wide, so set once, before any connection.
void configure_sqlite_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);  // no bulk page-cache allocation
    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 128, 32);        // 4 KiB of small slots a connection
  });
}

}  // namespace

// ---- Row ---------------------------------------------------------------------------------

int64_t Row::integer(int column) const { return sqlite3_column_int64(statement_, column); }

double Row::real(int column) const { return sqlite3_column_double(statement_, column); }

std::string Row::text(int column) const {
  // Ask for the bytes before their length: that order is the one SQLite documents as safe.
  auto bytes = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  if (bytes == nullptr) return {};
  return std::string(bytes, static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
}

bool Row::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

// ---- Statement ---------------------------------------------------------------------------

Statement::Statement(sqlite3_stmt* statement, bool* in_use, Error error)
    : statement_(statement), in_use_(in_use), error_(std::move(error)) {}

Statement::Statement(Statement&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      error_(std::move(other.error_)),
      next_parameter_(other.next_parameter_) {}

Statement::~Statement() {
  if (statement_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(statement_);
    return;
  }
  // Back to the cache: reset ends any read the statement still holds open, and clearing the
  // bindings means the next user cannot inherit a stale value for a parameter it forgot.
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
  *in_use_ = false;
}

void Statement::remember_bind_error(int code) {
  if (code != SQLITE_OK && error_.message.empty()) {
    error_.message = message_of(sqlite3_db_handle(statement_));
  }
}

void Statement::bind_value(int parameter, int64_t value) {
  if (statement_) remember_bind_error(sqlite3_bind_int64(statement_, parameter, value));
}

void Statement::bind_value(int parameter, double value) {
  if (statement_) remember_bind_error(sqlite3_bind_double(statement_, parameter, value));
}

void Statement::bind_value(int parameter, std::string_view value) {
  if (!statement_) return;
  // SQLITE_TRANSIENT copies the text, so the caller's string may die before the statement runs.
  remember_bind_error(sqlite3_bind_text64(statement_, parameter, value.data(), value.size(),
                                          SQLITE_TRANSIENT, SQLITE_UTF8));
}

Status Statement::exec() {
  return each([](const Row&) {});
}

Status Statement::each(const std::function<void(const Row&)>& on_row) {
  if (!error_.message.empty()) return error_;
  if (statement_ == nullptr) return make_error("statement was moved from");
  Row row(statement_);
  for (;;) {
    int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) {
      on_row(row);
    } else if (code == SQLITE_DONE) {
      sqlite3_reset(statement_);
      return {};
    } else {
      Error error{message_of(sqlite3_db_handle(statement_))};
      sqlite3_reset(statement_);
      return error;
    }
  }
}

// ---- Database ----------------------------------------------------------------------------

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& file,
                                                 int busy_timeout_ms) {
  configure_sqlite_memory();
  sqlite3* connection = nullptr;
  // NOMUTEX: each connection belongs to one thread, so SQLite's per-call locking is waste.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int code = sqlite3_open_v2(file.c_str(), &connection, flags, nullptr);
  if (code != SQLITE_OK) {
    Error error{message_of(connection)};
    sqlite3_close(connection);  // open may allocate a handle even when it fails
    return error;
  }
  sqlite3_extended_result_codes(connection, 1);
  sqlite3_busy_timeout(connection, busy_timeout_ms);
  // The WAL and its index stay when the last connection closes (truncated to nothing, see
  // journal_size_limit in store.cpp): a short process (`slipway run`, each CLI command) would
  // otherwise create both files, sync the folder for them, and delete them again on every call.
  int persist_wal = 1;
  sqlite3_file_control(connection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
  return std::unique_ptr<Database>(new Database(connection));
}

Database::~Database() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.statement);
  sqlite3_close(connection_);
}

Statement Database::prepare_uncached(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v2(connection_, sql.data(), static_cast<int>(sql.size()), &statement,
                                nullptr);
  if (code != SQLITE_OK) return Statement(nullptr, nullptr, Error{message_of(connection_)});
  return Statement(statement, nullptr, {});
}

Statement Database::stmt(std::string_view sql) {
  auto found = cache_.find(std::string(sql));
  if (found != cache_.end()) {
    // A nested query with the same text (an outer fetch still stepping) gets its own copy.
    if (found->second.in_use) return prepare_uncached(sql);
    found->second.in_use = true;
    return Statement(found->second.statement, &found->second.in_use, {});
  }
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v3(connection_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (code != SQLITE_OK) return Statement(nullptr, nullptr, Error{message_of(connection_)});
  // unordered_map nodes never move, so the in_use flag's address stays valid.
  CachedStatement& slot = cache_[std::string(sql)];
  slot = CachedStatement{statement, true};
  return Statement(statement, &slot.in_use, {});
}

Status Database::execute(std::string_view script) {
  std::string text(script);  // sqlite3_exec needs a terminating NUL
  char* message = nullptr;
  int code = sqlite3_exec(connection_, text.c_str(), nullptr, nullptr, &message);
  if (code == SQLITE_OK) return {};
  Error error{message ? message : message_of(connection_)};
  sqlite3_free(message);
  return error;
}

Status Database::transaction(const std::function<Status()>& work) {
  if (Status begun = execute("BEGIN IMMEDIATE"); !begun) return begun;
  // Rolls back on every path that does not reach COMMIT, including an exception from `work`.
  struct RollbackGuard {
    Database* database;
    ~RollbackGuard() {
      if (sqlite3_get_autocommit(database->connection_) == 0) (void)database->execute("ROLLBACK");
    }
  } guard{this};
  Status done = work();
  if (!done) return done;
  if (Status committed = execute("COMMIT"); !committed) return committed;
  return {};
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(connection_); }

int64_t Database::changes() const { return sqlite3_changes64(connection_); }

std::string Database::error_message() const { return message_of(connection_); }

}  // namespace slipway
