// `slipway secret set|list|rm|apply` on a server data directory, run as a user would: values go
// in on stdin or by reference, never in argv; nothing printed and nothing in the database file
// holds a value in clear.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/master_key.h"
#include "store/secret_store.h"
#include "support/command_with_input.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;

class SecretCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv(kMasterKeyVariable);  // this process reads the key the CLI made, from the file
    data_ = folder_.path() / "data";
    fs::create_directories(data_);
  }

  // `slipway --data-dir DATA ARGS...` with `input` on stdin and `environment` on top of ours.
  CommandOutput slipway(std::vector<std::string> arguments, const std::string& input = "",
                        std::map<std::string, std::optional<std::string>> environment = {}) {
    arguments.insert(arguments.begin(), {SLIPWAY_BINARY, "--data-dir", data_.string()});
    for (const char* name : {"SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_MASTER_KEY"}) environment.emplace(name, std::nullopt);
    return run_with_input(arguments, input, environment);
  }

  // The stored value, read in this process with the data directory's master key.
  std::optional<std::string> stored(const std::string& repository, const std::string& environment,
                                    const std::string& name) {
    auto key = load_master_key(data_, std::nullopt);
    auto store = Store::open(data_ / "slipway.db");
    if (!key || !store) {
      ADD_FAILURE() << "cannot open the data directory";
      return std::nullopt;
    }
    auto value = SecretStore(**store, *key).get(repository, environment, name);
    EXPECT_TRUE(value.ok()) << value.error().message;
    return value.ok() ? *value : std::nullopt;
  }

  fs::path write_file(const std::string& name, const std::string& content) {
    fs::path path = folder_.path() / name;
    std::ofstream(path) << content;
    return path;
  }

  nlohmann::json listed() {
    auto output = slipway({"secret", "list", "--json"});
    EXPECT_EQ(output.exit_code, 0) << output.err;
    auto json = nlohmann::json::parse(output.out, nullptr, false);
    return json.is_array() ? json : nlohmann::json::array();
  }

  // Every file of the data directory (database, WAL, master key excepted) as bytes.
  std::string data_bytes() {
    std::string all;
    for (const auto& entry : fs::recursive_directory_iterator(data_)) {
      if (!entry.is_regular_file() || entry.path().filename() == "master.key") continue;
      auto bytes = read_file(entry.path());
      if (bytes) all += *bytes;
    }
    return all;
  }

  TemporaryDirectory folder_{"slipway-secret-cli"};
  fs::path data_;
};

TEST_F(SecretCli, SetTakesTheValueFromStdinAndListShowsNamesOnly) {
  const std::string value = "s3cr3t value with spaces";
  auto set = slipway({"secret", "set", "hello-app", "production", "DATABASE_URL"}, value + "\n");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out.find(value), std::string::npos);
  EXPECT_EQ(stored("hello-app", "production", "DATABASE_URL"), value) << "exactly one trailing newline is stripped";
  ASSERT_EQ(slipway({"secret", "set", "*", "staging", "MULTI"}, "line 1\nline 2\n\n").exit_code, 0);
  EXPECT_EQ(stored("*", "staging", "MULTI"), "line 1\nline 2\n");

  auto table = slipway({"secret", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("DATABASE_URL"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("hello-app"), std::string::npos);
  EXPECT_NE(table.out.find("UPDATED"), std::string::npos);
  EXPECT_EQ(table.out.find(value), std::string::npos);
  EXPECT_EQ(table.out.find("line 1"), std::string::npos);

  auto json = listed();
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["repository"], "*");
  EXPECT_EQ(json[1]["name"], "DATABASE_URL");
  EXPECT_GT(json[1]["updated_ms"].get<int64_t>(), 0);
  EXPECT_FALSE(json[1].contains("value"));
  EXPECT_EQ(json.dump().find(value), std::string::npos);

  auto filtered = slipway({"secret", "list", "hello-app", "--environment", "production", "--json"});
  EXPECT_EQ(nlohmann::json::parse(filtered.out).size(), 1u) << filtered.out;
}

TEST_F(SecretCli, ThereIsNoArgvFormForTheValue) {
  for (std::vector<std::string> arguments :
       {std::vector<std::string>{"secret", "set", "app", "dev", "TOKEN", "value-in-argv"},
        std::vector<std::string>{"secret", "set", "app", "dev", "TOKEN", "--value=value-in-argv"}}) {
    auto refused = slipway(arguments, "from stdin\n");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("standard input"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("value-in-argv"), std::string::npos) << "the refused value is not echoed";
    EXPECT_EQ(refused.out.find("value-in-argv"), std::string::npos);
  }
  EXPECT_TRUE(listed().empty());
}

TEST_F(SecretCli, EmptyValuesAndBadNamesAreRefused) {
  auto empty = slipway({"secret", "set", "app", "dev", "TOKEN"}, "");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("no value"), std::string::npos) << empty.err;
  EXPECT_EQ(slipway({"secret", "set", "app", "dev", "TOKEN"}, "\n").exit_code, 2);
  auto bad = slipway({"secret", "set", "app", "dev", "9-lives"}, "v");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("letters, digits and '_'"), std::string::npos) << bad.err;
  EXPECT_TRUE(listed().empty());
}

TEST_F(SecretCli, RmRemovesAndFailsWhenAbsent) {
  ASSERT_EQ(slipway({"secret", "set", "app", "dev", "TOKEN"}, "v").exit_code, 0);
  auto removed = slipway({"secret", "rm", "app", "dev", "TOKEN"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(listed().empty());
  auto absent = slipway({"secret", "rm", "app", "dev", "TOKEN"});
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.err.find("no secret TOKEN"), std::string::npos) << absent.err;
}

TEST_F(SecretCli, ApplyMakesTheStoreMatchTheFile) {
  ASSERT_EQ(slipway({"secret", "set", "old-app", "dev", "STALE"}, "stale").exit_code, 0);
  write_file("db-url", "postgres://from-a-file\n");
  fs::path file = write_file("secrets.yml",
                             "secrets:\n"
                             "  - { repository: \"*\", environment: staging, name: REGISTRY_PASSWORD, from_env: STG_PW }\n"
                             "  - { repository: hello-app, environment: production, name: DATABASE_URL, from_file: db-url }\n");
  auto first = slipway({"secret", "apply", file.string()}, "", {{"STG_PW", "registry-pass-1"}});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("added"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("removed"), std::string::npos);
  EXPECT_NE(first.out.find("2 added, 0 updated, 0 unchanged, 1 removed"), std::string::npos) << first.out;
  EXPECT_EQ(stored("*", "staging", "REGISTRY_PASSWORD"), "registry-pass-1");
  EXPECT_EQ(stored("hello-app", "production", "DATABASE_URL"), "postgres://from-a-file");
  EXPECT_EQ(stored("old-app", "dev", "STALE"), std::nullopt);

  // A changed variable: planned by --dry-run, which changes nothing, then applied.
  auto before = listed();
  auto plan = slipway({"secret", "apply", file.string(), "--dry-run"}, "", {{"STG_PW", "registry-pass-2"}});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("0 added, 1 updated, 1 unchanged, 0 removed (dry run"), std::string::npos) << plan.out;
  EXPECT_EQ(stored("*", "staging", "REGISTRY_PASSWORD"), "registry-pass-1");
  EXPECT_EQ(listed(), before);

  auto second = slipway({"secret", "apply", file.string(), "--json"}, "", {{"STG_PW", "registry-pass-2"}});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto answer = nlohmann::json::parse(second.out);
  EXPECT_EQ(answer["actions"][0]["action"], "updated");
  EXPECT_EQ(answer["actions"][1]["action"], "unchanged");
  EXPECT_EQ(answer["summary"]["updated"], 1);
  EXPECT_EQ(second.out.find("registry-pass"), std::string::npos);
  EXPECT_EQ(stored("*", "staging", "REGISTRY_PASSWORD"), "registry-pass-2");
}

TEST_F(SecretCli, ALiteralValueIsRefusedWithFileLineAndColumn) {
  fs::path file = write_file("secrets.yml",
                             "secrets:\n"
                             "  - repository: hello-app\n"
                             "    environment: production\n"
                             "    name: DATABASE_URL\n"
                             "    value: postgres://literal-in-the-file\n");
  auto refused = slipway({"secret", "apply", file.string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find(file.string() + ":5:5: "), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("from_env"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("never written"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("literal-in-the-file"), std::string::npos);
  EXPECT_TRUE(listed().empty());
}

TEST_F(SecretCli, AnUnknownKeyGetsADidYouMean) {
  std::string entry = "  - { repository: app, environment: dev, name: TOKEN, from_evn: TOKEN_VALUE }\n";
  fs::path file = write_file("secrets.yml", "secrets:\n" + entry);
  auto refused = slipway({"secret", "apply", file.string()}, "", {{"TOKEN_VALUE", "v"}});
  EXPECT_EQ(refused.exit_code, 1);
  std::string where = file.string() + ":2:" + std::to_string(entry.find("from_evn") + 1) + ": ";
  EXPECT_NE(refused.err.find(where), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("did you mean 'from_env'?"), std::string::npos) << refused.err;
}

TEST_F(SecretCli, AMissingVariableOrFileAbortsBeforeAnyChange) {
  ASSERT_EQ(slipway({"secret", "set", "app", "dev", "KEEP"}, "kept").exit_code, 0);
  fs::path file = write_file("secrets.yml",
                             "secrets:\n"
                             "  - { repository: app, environment: dev, name: NEW, from_env: SET_ONE }\n"
                             "  - { repository: app, environment: dev, name: OTHER, from_env: NOT_SET_ANYWHERE }\n"
                             "  - { repository: app, environment: dev, name: FROM_FILE, from_file: /nonexistent/key }\n");
  auto refused = slipway({"secret", "apply", file.string()}, "", {{"SET_ONE", "v"}, {"NOT_SET_ANYWHERE", std::nullopt}});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(file.string() + ":3:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("NOT_SET_ANYWHERE is not set"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(file.string() + ":4:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("nothing was changed"), std::string::npos) << refused.err;
  auto json = listed();
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["name"], "KEEP");
}

TEST_F(SecretCli, TheDatabaseHoldsNoValueInClear) {
  const std::vector<std::string> values = {"hunter2-but-longer", "AKIAEXAMPLEKEY0123456789", "-----BEGIN KEY-----"};
  ASSERT_EQ(slipway({"secret", "set", "app", "production", "A"}, values[0]).exit_code, 0);
  ASSERT_EQ(slipway({"secret", "set", "*", "*", "B"}, values[1]).exit_code, 0);
  fs::path file = write_file("secrets.yml",
                             "secrets:\n  - { repository: app, environment: production, name: A, from_env: A_VALUE }\n"
                             "  - { repository: app, environment: staging, name: C, from_env: C_VALUE }\n");
  ASSERT_EQ(slipway({"secret", "apply", file.string()}, "", {{"A_VALUE", values[0]}, {"C_VALUE", values[2]}}).exit_code, 0);
  std::string dump;
  if (fs::exists("/usr/bin/sqlite3")) {
    auto dumped = run_with_input({"/usr/bin/sqlite3", (data_ / "slipway.db").string(), ".dump"}, "");
    ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
    dump = dumped.out;
    EXPECT_NE(dump.find("CREATE TABLE secrets"), std::string::npos);
    EXPECT_NE(dump.find("'app','staging','C'"), std::string::npos) << "the rows are in the dump, sealed";
  }
  dump += data_bytes();
  for (const auto& value : values) EXPECT_EQ(dump.find(value), std::string::npos) << value;
}

TEST_F(SecretCli, HelpAndAMissingDataDirectory) {
  for (const char* command : {"set", "list", "rm", "apply"}) {
    auto help = slipway({"secret", command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("secret"), std::string::npos) << help.out;
  }
  EXPECT_NE(slipway({"secret", "set", "--help"}).out.find("standard input"), std::string::npos);
  auto missing = run_with_input({SLIPWAY_BINARY, "secret", "list", "--data-dir", (folder_.path() / "nope").string()}, "",
                                {{"SLIPWAY_SERVER", std::nullopt}});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no server data directory"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace slipway::testing
