// The secret store on a real SQLite file, and its master key: values round-trip, layers resolve
// in order, bad input is refused with the rule, a box under another key or in another row is
// refused, apply converges, and the file (database and WAL) holds no value in clear.
#include "store/secret_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "base/crypto.h"
#include "base/files.h"
#include "store/master_key.h"
#include "store/sqlite_database.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(folder_.path() / "slipway.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    secrets_ = std::make_unique<SecretStore>(*store_, key_);
  }

  std::string value_of(const std::string& repository, const std::string& environment, const std::string& name) {
    auto value = secrets_->get(repository, environment, name);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() && *value ? **value : "<absent>";
  }

  TemporaryDirectory folder_{"slipway-secrets"};
  std::unique_ptr<Store> store_;
  std::string key_ = random_bytes(kSecretKeyBytes);
  std::unique_ptr<SecretStore> secrets_;
};

TEST_F(SecretStoreTest, SetGetListRemove) {
  ASSERT_TRUE(secrets_->set("hello-app", "production", "DATABASE_URL", "postgres://u:p@db/prod").ok());
  ASSERT_TRUE(secrets_->set("*", "staging", "REGISTRY_PASSWORD", "stg-pass").ok());
  EXPECT_EQ(value_of("hello-app", "production", "DATABASE_URL"), "postgres://u:p@db/prod");
  EXPECT_EQ(value_of("*", "staging", "REGISTRY_PASSWORD"), "stg-pass");
  EXPECT_EQ(value_of("hello-app", "staging", "DATABASE_URL"), "<absent>");

  auto all = secrets_->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].repository, "*");  // ordered by repository, environment, name
  EXPECT_EQ((*all)[1].name, "DATABASE_URL");
  EXPECT_GT((*all)[1].updated_ms, 0);
  auto only_app = secrets_->list("hello-app");
  ASSERT_TRUE(only_app.ok());
  EXPECT_EQ(only_app->size(), 1u);
  auto only_staging = secrets_->list("", "staging");
  ASSERT_TRUE(only_staging.ok());
  ASSERT_EQ(only_staging->size(), 1u);
  EXPECT_EQ((*only_staging)[0].name, "REGISTRY_PASSWORD");

  auto removed = secrets_->remove("hello-app", "production", "DATABASE_URL");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  auto again = secrets_->remove("hello-app", "production", "DATABASE_URL");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(secrets_->list()->size(), 1u);
}

TEST_F(SecretStoreTest, ReplacingKeepsCreationTimeAndChangesValue) {
  ASSERT_TRUE(secrets_->set("app", "dev", "TOKEN", "first").ok());
  auto before = secrets_->list()->at(0);
  ASSERT_TRUE(store_->database().stmt("UPDATE secrets SET created_ms = 1, updated_ms = 1").exec().ok());
  ASSERT_TRUE(secrets_->set("app", "dev", "TOKEN", "second").ok());
  auto after = secrets_->list()->at(0);
  EXPECT_EQ(after.created_ms, 1);
  EXPECT_GE(after.updated_ms, before.updated_ms);
  EXPECT_EQ(value_of("app", "dev", "TOKEN"), "second");
}

TEST_F(SecretStoreTest, ResolveLayersLaterWins) {
  ASSERT_TRUE(secrets_->set("*", "*", "LAYER", "any-any").ok());
  ASSERT_TRUE(secrets_->set("*", "*", "SHARED_ONLY", "everyone").ok());
  ASSERT_TRUE(secrets_->set("*", "staging", "LAYER", "any-staging").ok());
  ASSERT_TRUE(secrets_->set("app", "*", "LAYER", "app-any").ok());
  ASSERT_TRUE(secrets_->set("app", "staging", "LAYER", "app-staging").ok());
  ASSERT_TRUE(secrets_->set("app", "production", "PROD_ONLY", "prod-value").ok());
  ASSERT_TRUE(secrets_->set("other", "staging", "OTHER_ONLY", "not for app").ok());

  auto staging = secrets_->resolve("app", "staging");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  EXPECT_EQ((*staging)["LAYER"], "app-staging");
  EXPECT_EQ((*staging)["SHARED_ONLY"], "everyone");
  EXPECT_FALSE(staging->count("PROD_ONLY"));
  EXPECT_FALSE(staging->count("OTHER_ONLY"));

  EXPECT_EQ(secrets_->resolve("app", "development")->at("LAYER"), "app-any");
  EXPECT_EQ(secrets_->resolve("other", "staging")->at("LAYER"), "any-staging");
  EXPECT_EQ(secrets_->resolve("other", "development")->at("LAYER"), "any-any");
  // A test job's environment is `test`: nothing of production reaches it.
  auto test = secrets_->resolve("app", "test");
  ASSERT_TRUE(test.ok());
  EXPECT_FALSE(test->count("PROD_ONLY"));
  // Environment '*': only the environment-wide layers (how webhook secrets are looked up).
  auto wide = secrets_->resolve("app", "*");
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->at("LAYER"), "app-any");
  EXPECT_FALSE(wide->count("PROD_ONLY"));
}

TEST_F(SecretStoreTest, BadAddressesAndValuesAreRefusedWithTheRule) {
  for (const char* name : {"1ABC", "A-B", "", "A B", "NAME="}) {
    auto set = secrets_->set("app", "dev", name, "v");
    ASSERT_FALSE(set.ok()) << name;
    EXPECT_NE(set.error().message.find("letters, digits and '_'"), std::string::npos) << set.error().message;
  }
  for (const char* scope : {"", "a/b", "has space", "x\ny"}) {
    EXPECT_FALSE(secrets_->set(scope, "dev", "OK", "v").ok()) << scope;
    EXPECT_FALSE(secrets_->set("app", scope, "OK", "v").ok()) << scope;
  }
  auto empty = secrets_->set("app", "dev", "OK", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  EXPECT_FALSE(secrets_->set("app", "dev", "OK", std::string("a\0b", 3)).ok());
  EXPECT_TRUE(secrets_->set("my.app-2", "dev_1", "_OK9", "v").ok());
  EXPECT_EQ(secrets_->list()->size(), 1u);
}

TEST_F(SecretStoreTest, AnotherMasterKeyIsRefusedNamingTheSecret) {
  ASSERT_TRUE(secrets_->set("app", "production", "API_KEY", "sealed-under-the-first-key").ok());
  SecretStore other(*store_, random_bytes(kSecretKeyBytes));
  auto value = other.get("app", "production", "API_KEY");
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.error().message.find("API_KEY"), std::string::npos) << value.error().message;
  EXPECT_NE(value.error().message.find("master key differs"), std::string::npos) << value.error().message;
  EXPECT_EQ(value.error().message.find("sealed-under-the-first-key"), std::string::npos);
  EXPECT_FALSE(other.resolve("app", "production").ok());
  // The right key still opens it.
  EXPECT_EQ(value_of("app", "production", "API_KEY"), "sealed-under-the-first-key");
}

TEST_F(SecretStoreTest, ABoxMovedToAnotherRowIsRefused) {
  ASSERT_TRUE(secrets_->set("app", "staging", "PASSWORD", "staging-password").ok());
  ASSERT_TRUE(secrets_->set("app", "production", "PASSWORD", "production-password").ok());
  Status moved = store_->database().execute(
      "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE environment = 'staging') "
      "WHERE environment = 'production'");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  auto value = secrets_->get("app", "production", "PASSWORD");
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.error().message.find("another secret"), std::string::npos) << value.error().message;
  EXPECT_FALSE(secrets_->resolve("app", "production").ok());
  EXPECT_EQ(value_of("app", "staging", "PASSWORD"), "staging-password");
}

TEST_F(SecretStoreTest, ApplyConvergesAndDryRunChangesNothing) {
  ASSERT_TRUE(secrets_->set("app", "dev", "KEEP", "same").ok());
  ASSERT_TRUE(secrets_->set("app", "dev", "CHANGE", "old").ok());
  ASSERT_TRUE(secrets_->set("app", "dev", "DROP", "gone").ok());
  std::vector<SecretValue> desired = {{"app", "dev", "KEEP", "same"},
                                      {"app", "dev", "CHANGE", "new"},
                                      {"*", "staging", "ADD", "added"}};
  auto planned = secrets_->apply(desired, /*dry_run=*/true);
  ASSERT_TRUE(planned.ok()) << planned.error().message;
  std::vector<std::string> words;
  for (const auto& action : *planned) words.push_back(action.name + ":" + action.action);
  EXPECT_EQ(words, (std::vector<std::string>{"KEEP:unchanged", "CHANGE:updated", "ADD:added", "DROP:removed"}));
  EXPECT_EQ(value_of("app", "dev", "CHANGE"), "old");
  EXPECT_EQ(secrets_->list()->size(), 3u);

  auto done = secrets_->apply(desired, false);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->size(), 4u);
  EXPECT_EQ(value_of("app", "dev", "CHANGE"), "new");
  EXPECT_EQ(value_of("*", "staging", "ADD"), "added");
  EXPECT_EQ(value_of("app", "dev", "DROP"), "<absent>");
  auto again = secrets_->apply(desired, false);
  ASSERT_TRUE(again.ok());
  for (const auto& action : *again) EXPECT_EQ(action.action, "unchanged") << action.name;
}

TEST_F(SecretStoreTest, ApplyRefusesBadInputBeforeChangingAnything) {
  ASSERT_TRUE(secrets_->set("app", "dev", "KEEP", "same").ok());
  EXPECT_FALSE(secrets_->apply({{"app", "dev", "A", "1"}, {"app", "dev", "A", "2"}}, false).ok());
  EXPECT_FALSE(secrets_->apply({{"app", "dev", "A", "1"}, {"app", "dev", "bad-name", "2"}}, false).ok());
  EXPECT_FALSE(secrets_->apply({{"app", "dev", "A", ""}}, false).ok());
  EXPECT_EQ(value_of("app", "dev", "KEEP"), "same");
  EXPECT_EQ(secrets_->list()->size(), 1u);
  // An existing box another key sealed: refused, not overwritten.
  SecretStore other(*store_, random_bytes(kSecretKeyBytes));
  auto refused = other.apply({{"app", "dev", "KEEP", "x"}, {"app", "dev", "NEW", "y"}}, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("master key differs"), std::string::npos);
  EXPECT_EQ(secrets_->list()->size(), 1u);
  EXPECT_EQ(value_of("app", "dev", "KEEP"), "same");
}

TEST_F(SecretStoreTest, TheDatabaseFilesHoldNoValueInClear) {
  const std::vector<std::string> values = {"correct-horse-battery-staple", "postgres://admin:Pa55w0rd@db:5432/app",
                                           "line one\nline two of a key"};
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(secrets_->set("app", "production", "SECRET_" + std::to_string(i), values[i]).ok());
  }
  ASSERT_TRUE(secrets_->apply({{"app", "production", "SECRET_0", values[0]}, {"*", "*", "APPLIED", values[1]}}, false).ok());
  // The database and its write-ahead log (where fresh pages sit until a checkpoint), as bytes.
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) {
    if (auto file = read_file(folder_.path() / (std::string("slipway.db") + suffix))) bytes += *file;
  }
  EXPECT_NE(bytes.find("SECRET_0"), std::string::npos) << "names are stored in clear (the grep sees the rows)";
  for (const auto& value : values) {
    EXPECT_EQ(bytes.find(value), std::string::npos) << "the files hold " << value;
    EXPECT_EQ(bytes.find(to_base64(value)), std::string::npos) << "the files hold base64 of " << value;
  }
}

TEST_F(SecretStoreTest, ServerSecretsNeverComeOutOfResolve) {
  ASSERT_TRUE(secrets_->set_server("HELLO_WEBHOOK_SECRET", "hmac-key-value").ok());
  ASSERT_TRUE(secrets_->set("*", "*", "SHARED", "for every job").ok());
  EXPECT_EQ(secrets_->get_server("HELLO_WEBHOOK_SECRET")->value_or("<absent>"), "hmac-key-value");
  for (const auto& [repository, environment] : std::vector<std::pair<std::string, std::string>>{
           {"hello", "test"}, {"hello", "production"}, {"hello", "*"}, {"*", "*"}, {"*", "test"}}) {
    auto resolved = secrets_->resolve(repository, environment);
    ASSERT_TRUE(resolved.ok()) << resolved.error().message;
    EXPECT_EQ(resolved->count("HELLO_WEBHOOK_SECRET"), 0u) << repository << " " << environment;
    EXPECT_EQ(resolved->count("SHARED"), 1u) << repository << " " << environment;
  }
  // Not even when asked for by the scope's own name: that is no repository's.
  EXPECT_FALSE(secrets_->resolve(std::string(kServerScope), std::string(kServerScope)).ok());
  EXPECT_FALSE(secrets_->resolve("hello", std::string(kServerScope)).ok());
  EXPECT_FALSE(secrets_->get(std::string(kServerScope), std::string(kServerScope), "HELLO_WEBHOOK_SECRET").ok());
  EXPECT_FALSE(secrets_->set(std::string(kServerScope), "*", "X", "v").ok()) << "the scope is not a repository name";
}

TEST_F(SecretStoreTest, ServerSecretsAreListedAndRemovedApartAndApplyLeavesThem) {
  ASSERT_TRUE(secrets_->set_server("HOOK", "hmac").ok());
  ASSERT_TRUE(secrets_->set("app", "dev", "TOKEN", "t").ok());
  auto jobs = secrets_->list();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].name, "TOKEN");
  auto server = secrets_->list_server();
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(server->size(), 1u);
  EXPECT_EQ((*server)[0].name, "HOOK");
  // apply makes the job secrets match its list; the server's own are not in its scope.
  auto actions = secrets_->apply({}, false);
  ASSERT_TRUE(actions.ok()) << actions.error().message;
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_EQ((*actions)[0].name, "TOKEN");
  EXPECT_EQ(secrets_->get_server("HOOK")->value_or("<absent>"), "hmac");
  EXPECT_TRUE(*secrets_->remove_server("HOOK"));
  EXPECT_FALSE(*secrets_->remove_server("HOOK"));
  EXPECT_FALSE(secrets_->set_server("bad-name", "v").ok());
  EXPECT_FALSE(secrets_->set_server("EMPTY", "").ok());
}

TEST_F(SecretStoreTest, AServerSecretMovedToAJobRowDoesNotOpen) {
  ASSERT_TRUE(secrets_->set_server("HOOK", "hmac-key-value").ok());
  // By hand, in the database: the box is bound to its row, so the move yields nothing.
  ASSERT_TRUE(store_->database().stmt("UPDATE secrets SET repository = '*', environment = '*'").exec().ok());
  auto resolved = secrets_->resolve("app", "test");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().message.find("hmac-key-value"), std::string::npos);
}

// The master key.

TEST(MasterKey, FromTheVariableAsBase64OrHex) {
  TemporaryDirectory data("slipway-key");
  std::string key = random_bytes(kSecretKeyBytes);
  {
    auto loaded = load_master_key(data.path(), to_base64(key));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(*loaded, key);
  }
  {
    auto loaded = load_master_key(data.path(), to_hex(key) + "\n");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(*loaded, key);
  }
  EXPECT_FALSE(fs::exists(master_key_file(data.path()))) << "a key from the variable writes no file";
}

TEST(MasterKey, AMalformedVariableIsAClearErrorNotAFallback) {
  TemporaryDirectory data("slipway-key");
  for (std::string bad : {std::string(""), std::string("too-short"), to_base64(random_bytes(16)),
                          std::string(64, 'g'), to_hex(random_bytes(31))}) {
    auto loaded = load_master_key(data.path(), bad);
    ASSERT_FALSE(loaded.ok()) << "'" << bad << "'";
    EXPECT_NE(loaded.error().message.find("SLIPWAY_MASTER_KEY"), std::string::npos) << loaded.error().message;
    if (bad.size() > 4) {
      EXPECT_EQ(loaded.error().message.find(bad), std::string::npos) << "the text is never quoted";
    }
  }
  EXPECT_FALSE(fs::exists(master_key_file(data.path())));
}

TEST(MasterKey, FileIsCreated0600OnceAndReused) {
  TemporaryDirectory data("slipway-key");
  auto first = load_master_key(data.path(), std::nullopt);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->size(), kSecretKeyBytes);
  struct stat status {};
  ASSERT_EQ(::stat(master_key_file(data.path()).c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  auto second = load_master_key(data.path(), std::nullopt);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  auto content = read_file(master_key_file(data.path()));
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, to_base64(*first) + "\n");
  // Nothing else is left beside it (the temporary file it was written through is gone).
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(data.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(MasterKey, AFileOthersMayReadIsRefusedWithTheFix) {
  TemporaryDirectory data("slipway-key");
  fs::path file = master_key_file(data.path());
  ASSERT_TRUE(load_master_key(data.path(), std::nullopt).ok());
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  auto loaded = load_master_key(data.path(), std::nullopt);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("chmod 600 " + file.string()), std::string::npos) << loaded.error().message;
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_TRUE(load_master_key(data.path(), std::nullopt).ok());
}

TEST(MasterKey, ACorruptFileIsAnErrorNamingIt) {
  TemporaryDirectory data("slipway-key");
  fs::path file = master_key_file(data.path());
  std::ofstream(file) << "not a key at all\n";
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  auto loaded = load_master_key(data.path(), std::nullopt);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find(file.string()), std::string::npos) << loaded.error().message;
}

TEST(MasterKey, AMissingFolderIsAnError) {
  TemporaryDirectory data("slipway-key");
  EXPECT_FALSE(load_master_key(data.path() / "does-not-exist", std::nullopt).ok());
}

}  // namespace
}  // namespace slipway
