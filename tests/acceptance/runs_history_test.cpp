// `slipway runs list|show|logs` read back what `slipway run` recorded on this machine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

TEST(RunsHistory, ListShowAndLogsReadBackARun) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo hello from unit\" }\n"
                             "    lint: { run: \"echo lint line; exit 1\" }\n");
  std::string sha = repo.commit();
  SlipwayCommand slipway;
  slipway.run({"run", repo.path().string()});
  slipway.run({"run", repo.path().string()});

  auto listed = slipway.run({"runs", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto runs = nlohmann::json::parse(listed.out);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_GT(runs[0]["id"].get<int64_t>(), runs[1]["id"].get<int64_t>()) << "newest first";
  EXPECT_EQ(runs[0]["commit"], sha);
  EXPECT_EQ(runs[0]["status"], "failed");
  std::string id = std::to_string(runs[0]["id"].get<int64_t>());

  auto table = slipway.run({"runs", "list"});
  EXPECT_NE(table.out.find(sha.substr(0, 12)), std::string::npos) << table.out;

  auto shown = slipway.run({"runs", "show", id});
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(shown.out.find("lint"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("exited with status 1"), std::string::npos) << shown.out;

  auto logs = slipway.run({"runs", "logs", id, "--step", "unit"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("hello from unit"), std::string::npos) << logs.out;
  EXPECT_EQ(logs.out.find("lint line"), std::string::npos);

  auto all_logs = slipway.run({"runs", "logs", id});
  EXPECT_NE(all_logs.out.find("lint line"), std::string::npos);

  auto filtered = slipway.run({"runs", "list", "--status", "passed", "--json"});
  EXPECT_EQ(nlohmann::json::parse(filtered.out).size(), 0u);
}

TEST(RunsHistory, UnknownRunAndStepAreClearErrors) {
  SlipwayCommand slipway;
  auto missing = slipway.run({"runs", "show", "999"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no run #999"), std::string::npos) << missing.err;
  auto empty = slipway.run({"runs", "list"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.out.find("no runs yet"), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
