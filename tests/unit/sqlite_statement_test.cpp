// The SQLite wrapper on a real file: binding, typed reads, the statement cache, transactions,
// and errors coming back as values.
#include "store/sqlite_database.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "base/files.h"

namespace slipway {
namespace {

class SqliteStatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(directory_.path() / "test.db", 1000);
    ASSERT_TRUE(opened) << opened.error().message;
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)"));
  }

  Status insert(int64_t id, const std::string& name, double score) {
    return db_->stmt("INSERT INTO t (id, name, score) VALUES (?, ?, ?)")
        .bind(id, name, score)
        .exec();
  }

  TemporaryDirectory directory_{"slipway-sqlite-test"};
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteStatementTest, BindsAndFetchesTypedColumns) {
  ASSERT_TRUE(insert(1, "alpha", 1.5));
  ASSERT_TRUE(insert(2, "béta ✓", -2.25));
  std::vector<std::tuple<int64_t, std::string, double>> rows;
  Status read = db_->stmt("SELECT id, name, score FROM t ORDER BY id")
                    .fetch<int64_t, std::string, double>(
                        [&](int64_t id, std::string name, double score) {
                          rows.emplace_back(id, std::move(name), score);
                        });
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], std::make_tuple(int64_t{1}, std::string("alpha"), 1.5));
  EXPECT_EQ(rows[1], std::make_tuple(int64_t{2}, std::string("béta ✓"), -2.25));
}

TEST_F(SqliteStatementTest, ChainedBindsContinueNumbering) {
  ASSERT_TRUE(db_->stmt("INSERT INTO t (id, name, score) VALUES (?, ?, ?)")
                  .bind(7)
                  .bind("seven")
                  .bind(7.0)
                  .exec());
  std::string name;
  ASSERT_TRUE(db_->stmt("SELECT name FROM t WHERE id = ?").bind(7).fetch<std::string>(
      [&](std::string n) { name = n; }));
  EXPECT_EQ(name, "seven");
}

TEST_F(SqliteStatementTest, TextKeepsEmbeddedNulAndNullReadsEmpty) {
  std::string with_nul("a\0b", 3);
  ASSERT_TRUE(insert(1, with_nul, 0));
  ASSERT_TRUE(db_->execute("INSERT INTO t (id) VALUES (2)"));
  std::vector<std::string> names;
  std::vector<bool> nulls;
  ASSERT_TRUE(db_->stmt("SELECT name FROM t ORDER BY id").each([&](const Row& row) {
    names.push_back(row.text(0));
    nulls.push_back(row.is_null(0));
  }));
  EXPECT_EQ(names, (std::vector<std::string>{with_nul, ""}));
  EXPECT_EQ(nulls, (std::vector<bool>{false, true}));
}

TEST_F(SqliteStatementTest, CachedStatementStartsWithFreshBindings) {
  ASSERT_TRUE(insert(1, "one", 1));
  // The same SQL text again: served from the cache, reset, its old bindings cleared (so the
  // unbound score is NULL, not the previous 1.0).
  ASSERT_TRUE(db_->stmt("INSERT INTO t (id, name, score) VALUES (?, ?, ?)").bind(2, "two").exec());
  bool score_is_null = false;
  ASSERT_TRUE(db_->stmt("SELECT score FROM t WHERE id = 2").each([&](const Row& row) {
    score_is_null = row.is_null(0);
  }));
  EXPECT_TRUE(score_is_null);
}

TEST_F(SqliteStatementTest, NestedUseOfTheSameSqlGetsItsOwnStatement) {
  ASSERT_TRUE(insert(1, "one", 1));
  ASSERT_TRUE(insert(2, "two", 2));
  const std::string sql = "SELECT id FROM t ORDER BY id";
  std::vector<std::pair<int64_t, int64_t>> pairs;
  Status outer = db_->stmt(sql).fetch<int64_t>([&](int64_t a) {
    Status inner = db_->stmt(sql).fetch<int64_t>([&](int64_t b) { pairs.emplace_back(a, b); });
    EXPECT_TRUE(inner) << inner.error().message;
  });
  ASSERT_TRUE(outer) << outer.error().message;
  EXPECT_EQ(pairs.size(), 4u);
}

TEST_F(SqliteStatementTest, PrepareErrorIsReturnedNotThrown) {
  Status status = db_->stmt("SELECT nope FROM t").bind(1).exec();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("no such column: nope"), std::string::npos)
      << status.error().message;
}

TEST_F(SqliteStatementTest, BindingTooManyValuesIsAnError) {
  Status status = db_->stmt("SELECT ?").bind(1, 2).exec();
  ASSERT_FALSE(status);
  EXPECT_FALSE(status.error().message.empty());
}

TEST_F(SqliteStatementTest, ConstraintErrorCarriesSqlitesMessage) {
  ASSERT_TRUE(insert(1, "one", 1));
  Status status = insert(1, "again", 1);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("UNIQUE constraint failed"), std::string::npos)
      << status.error().message;
  // The cached statement is usable again after the failure.
  EXPECT_TRUE(insert(2, "two", 2));
}

TEST_F(SqliteStatementTest, TransactionCommitsOnSuccess) {
  ASSERT_TRUE(db_->transaction([&]() -> Status {
    if (Status s = insert(1, "one", 1); !s) return s;
    return insert(2, "two", 2);
  }));
  int64_t count = 0;
  ASSERT_TRUE(db_->stmt("SELECT count(*) FROM t").fetch<int64_t>([&](int64_t n) { count = n; }));
  EXPECT_EQ(count, 2);
}

TEST_F(SqliteStatementTest, TransactionRollsBackOnFailure) {
  Status status = db_->transaction([&]() -> Status {
    if (Status s = insert(1, "one", 1); !s) return s;
    return insert(1, "duplicate", 1);
  });
  ASSERT_FALSE(status);
  int64_t count = -1;
  ASSERT_TRUE(db_->stmt("SELECT count(*) FROM t").fetch<int64_t>([&](int64_t n) { count = n; }));
  EXPECT_EQ(count, 0);
  // And the connection is out of the transaction: a new one can begin.
  EXPECT_TRUE(db_->transaction([&] { return insert(3, "three", 3); }));
}

TEST_F(SqliteStatementTest, LastInsertIdAndChanges) {
  ASSERT_TRUE(db_->stmt("INSERT INTO t (name) VALUES (?)").bind("x").exec());
  int64_t id = db_->last_insert_id();
  EXPECT_GT(id, 0);
  ASSERT_TRUE(db_->stmt("UPDATE t SET name = ? WHERE id = ?").bind("y", id).exec());
  EXPECT_EQ(db_->changes(), 1);
  ASSERT_TRUE(db_->stmt("UPDATE t SET name = ? WHERE id = ?").bind("y", id + 100).exec());
  EXPECT_EQ(db_->changes(), 0);
}

TEST(SqliteDatabaseOpen, MissingDirectoryIsAnError) {
  auto opened = Database::open("/nonexistent-slipway-dir/sub/test.db", 1000);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("unable to open"), std::string::npos)
      << opened.error().message;
}

}  // namespace
}  // namespace slipway
