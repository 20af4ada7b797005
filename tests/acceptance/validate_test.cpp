// `slipway validate`: file:line:col diagnostics, "did you mean", JSON, and exit statuses.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

TEST(Validate, AcceptsEachExample) {
  SlipwayCommand slipway;
  for (const char* kind : {"application", "data-task", "library"}) {
    auto file = std::string(SLIPWAY_SOURCE_DIR) + "/examples/" + kind + "/.slipway.yml";
    auto result = slipway.run({"validate", file});
    EXPECT_EQ(result.exit_code, 0) << kind << ": " << result.err;
    EXPECT_NE(result.out.find(std::string("valid ") + kind), std::string::npos) << result.out;
  }
}

TEST(Validate, ReportsPositionAndSuggestionAndFails) {
  TemporaryDirectory folder;
  auto file = folder.path() / "typo.yml";
  std::ofstream(file) << "kind: library\ntest:\n  suits:\n    unit: { run: make test }\n";
  SlipwayCommand slipway;
  auto result = slipway.run({"validate", file.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(file.string() + ":3:3: unknown key 'suits'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("did you mean 'suites'?"), std::string::npos) << result.err;

  auto json = slipway.run({"validate", file.string(), "--json"});
  EXPECT_EQ(json.exit_code, 1);
  auto answer = nlohmann::json::parse(json.out);
  EXPECT_FALSE(answer["valid"].get<bool>());
  bool found = false;
  for (const auto& diagnostic : answer["diagnostics"]) {
    if (diagnostic["message"].get<std::string>().find("'suits'") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(diagnostic["line"], 3);
    EXPECT_EQ(diagnostic["column"], 3);
  }
  EXPECT_TRUE(found) << json.out;
}

TEST(Validate, ChecksPublishDeployAndTasksSections) {
  TemporaryDirectory folder;
  auto file = folder.path() / "data.yml";
  std::ofstream(file) << "kind: data-task\ntest:\n  suites:\n    unit: { run: make }\npublish:\n  dags: { from: dags/, prefix: dags/ }\n"
                         "deploy:\n  bake: 10s\ntasks:\n  load: { command: [etl], memory: 12q }\n";
  SlipwayCommand slipway;
  auto result = slipway.run({"validate", file.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("'deploy' is only for kind application"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("invalid memory size '12q'"), std::string::npos) << result.err;
}

TEST(Validate, MissingFileIsBadInput) {
  SlipwayCommand slipway;
  auto result = slipway.run({"validate", "/nonexistent/.slipway.yml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/nonexistent/.slipway.yml"), std::string::npos);
}

// The same limits as the server's (spec/spec_file.h): a regular file of at most 256 KiB.
TEST(Validate, RefusesAFileOver256KiB) {
  TemporaryDirectory folder;
  auto file = folder.path() / "big.yml";
  std::ofstream(file) << "kind: library\n# " << std::string(300 * 1024, 'x') << "\n";
  SlipwayCommand slipway;
  auto result = slipway.run({"validate", file.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("a .slipway.yml may be at most 256 KiB"), std::string::npos) << result.err;
}

TEST(Validate, RefusesASymlinkAndWhatIsNotARegularFile) {
  TemporaryDirectory folder;
  std::ofstream(folder.path() / "real.yml") << "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n";
  std::filesystem::create_symlink(folder.path() / "real.yml", folder.path() / "link.yml");
  SlipwayCommand slipway;
  auto link = slipway.run({"validate", (folder.path() / "link.yml").string()});
  EXPECT_EQ(link.exit_code, 2);
  EXPECT_NE(link.err.find("is a symbolic link"), std::string::npos) << link.err;
  for (const char* special : {"/dev/zero", "/tmp"}) {
    auto refused = slipway.run({"validate", special});
    EXPECT_EQ(refused.exit_code, 2) << special;
    EXPECT_NE(refused.err.find("is not a regular file"), std::string::npos) << refused.err;
  }
  EXPECT_EQ(slipway.run({"validate", (folder.path() / "real.yml").string()}).exit_code, 0);
}

}  // namespace
}  // namespace slipway::testing
