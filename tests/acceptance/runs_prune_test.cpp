// Retention end to end: `slipway runs prune` (dry run, then for real, text and JSON) on a data
// directory filled by `slipway run`; the server's background pass at start; and the per-step log
// cap of `slipway run --max-log-bytes`.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

std::vector<int64_t> run_ids(SlipwayCommand& slipway) {
  auto listed = slipway.run({"runs", "list", "--json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<int64_t> ids;
  for (const auto& run : nlohmann::json::parse(listed.out, nullptr, false)) ids.push_back(run["id"]);
  return ids;
}

class RunsPrune : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo hello\" }\n");
    repo_.commit();
    for (int i = 0; i < 3; ++i) {
      auto ran = slipway_.run({"run", "--executor", "host", repo_.path().string()});
      ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
    }
  }
  ScratchRepository repo_;
  SlipwayCommand slipway_;
};

TEST_F(RunsPrune, DryRunListsThenPruneRemovesRecordsAndFolders) {
  std::vector<int64_t> ids = run_ids(slipway_);  // newest first
  ASSERT_EQ(ids.size(), 3u);
  auto dry = slipway_.run({"runs", "prune", "--dry-run", "--json", "--max-age", "0s", "--keep-last", "1"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  auto answer = nlohmann::json::parse(dry.out);
  EXPECT_TRUE(answer["dry_run"].get<bool>());
  ASSERT_EQ(answer["runs"].size(), 2u) << dry.out;
  EXPECT_EQ(answer["runs"][0]["id"], ids[2]);
  EXPECT_EQ(answer["runs"][1]["id"], ids[1]);
  EXPECT_GT(answer["bytes"].get<int64_t>(), 0);
  EXPECT_EQ(run_ids(slipway_).size(), 3u) << "a dry run removes nothing";
  EXPECT_TRUE(std::filesystem::exists(slipway_.data_dir() / "runs" / std::to_string(ids[2])));

  auto pruned = slipway_.run({"runs", "prune", "--max-age", "0s", "--keep-last", "1"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("removed run #" + std::to_string(ids[2])), std::string::npos) << pruned.out;
  EXPECT_NE(pruned.out.find("Removed: 2 runs"), std::string::npos) << pruned.out;
  EXPECT_EQ(run_ids(slipway_), std::vector<int64_t>{ids[0]});
  EXPECT_FALSE(std::filesystem::exists(slipway_.data_dir() / "runs" / std::to_string(ids[2])));
  EXPECT_FALSE(std::filesystem::exists(slipway_.data_dir() / "runs" / std::to_string(ids[1])));
  EXPECT_TRUE(std::filesystem::exists(slipway_.data_dir() / "runs" / std::to_string(ids[0])));
  auto gone = slipway_.run({"runs", "show", std::to_string(ids[2])});
  EXPECT_EQ(gone.exit_code, 2);

  // The default policy (90 days) keeps a fresh run.
  auto again = slipway_.run({"runs", "prune"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("Removed: 0 runs"), std::string::npos) << again.out;
}

TEST_F(RunsPrune, ThePolicyComesFromTheServerConfigurationAndMistakesAreReported) {
  TemporaryDirectory config_dir;
  std::filesystem::path config = config_dir.path() / "slipway.yml";
  std::ofstream(config) << "retention: { max_age: 0s, keep_last: 2 }\n";
  auto pruned = slipway_.run({"runs", "prune", "--config", config.string(), "--json"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_EQ(nlohmann::json::parse(pruned.out)["runs"].size(), 1u) << pruned.out;
  EXPECT_EQ(run_ids(slipway_).size(), 2u);

  std::ofstream(config) << "retention: { max_age: soon }\n";
  auto bad = slipway_.run({"runs", "prune", "--config", config.string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("slipway.yml:1:23: "), std::string::npos) << bad.err;
  auto bad_flag = slipway_.run({"runs", "prune", "--max-age", "three"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_NE(bad_flag.err.find("--max-age: invalid duration 'three'"), std::string::npos) << bad_flag.err;
  EXPECT_EQ(run_ids(slipway_).size(), 2u);
}

TEST_F(RunsPrune, TheServerPrunesInTheBackgroundAtStart) {
  TemporaryDirectory config_dir;
  std::filesystem::path config = config_dir.path() / "slipway.yml";
  std::ofstream(config) << "retention: { max_age: 0s, keep_last: 1 }\n";
  ServerProcess server({"--config", config.string(), "--data-dir", slipway_.data_dir().string()},
                       "acceptance-admin-token-0123456789abcdef");
  ASSERT_FALSE(server.address().empty()) << server.log();
  size_t left = 3;
  for (int attempt = 0; attempt < 100 && left != 1; ++attempt) {
    left = run_ids(slipway_).size();
    if (left != 1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, 1u) << server.log();
  server.stop();
  EXPECT_NE(server.log().find("retention: removed 2 finished runs"), std::string::npos) << server.log();
}

TEST(RunMaxLogBytes, AChattyStepIsCutAndItsReasonSaysSo) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    chatty: { run: \"seq 1 50000\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto ran = slipway.run({"run", "--executor", "host", "--max-log-bytes", "2k", "--json", repo.path().string()});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  std::string id = std::to_string(nlohmann::json::parse(ran.out)["run"].get<int64_t>());
  auto shown = nlohmann::json::parse(slipway.run({"runs", "show", id, "--json"}).out);
  std::string reason = shown["jobs"][0]["steps"][0]["reason"];
  EXPECT_NE(reason.find("log truncated at max_log_bytes (2 KiB)"), std::string::npos) << shown.dump(2);
  auto logs = slipway.run({"runs", "logs", id});
  EXPECT_NE(logs.out.find("log truncated: max_log_bytes (2 KiB) reached"), std::string::npos) << logs.out;
  EXPECT_EQ(logs.out.find("\n50000\n"), std::string::npos);
  auto bad = slipway.run({"run", "--max-log-bytes", "lots", repo.path().string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--max-log-bytes: invalid memory size 'lots'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace slipway::testing
