// The example repositories, carried through the Test stage by the real binary in the sandbox:
// each passes with its three suites reported, and the failing variant fails with its test named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

std::filesystem::path example_repository(const TemporaryDirectory& folder, const std::string& kind, bool failing) {
  auto destination = folder.path() / kind;
  std::vector<std::string> argv = {std::string(SLIPWAY_SOURCE_DIR) + "/scripts/example-repo", kind, destination.string()};
  if (failing) argv.push_back("--failing");
  auto made = run_command_checked(argv);
  EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
  return destination;
}

nlohmann::json run_json(SlipwayCommand& slipway, const std::filesystem::path& repository, CommandOutput& output) {
  output = slipway.run({"run", repository.string(), "--json"});
  auto answer = nlohmann::json::parse(output.out, nullptr, false);
  EXPECT_FALSE(answer.is_discarded()) << output.out << output.err;
  return answer;
}

class ExampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleTest, PassesEverySuiteWithReports) {
  TemporaryDirectory folder;
  auto repository = example_repository(folder, GetParam(), false);
  SlipwayCommand slipway;
  CommandOutput output;
  auto answer = run_json(slipway, repository, output);
  ASSERT_EQ(output.exit_code, 0) << output.err.substr(output.err.size() > 6000 ? output.err.size() - 6000 : 0);
  EXPECT_EQ(answer["status"], "passed");
  const auto& suites = answer["report"]["suites"];
  ASSERT_EQ(suites.size(), 3u);
  for (const auto& suite : suites) {
    EXPECT_TRUE(suite["passed"].get<bool>()) << suite.dump();
    EXPECT_GT(suite["tests"]["passed"].get<int>(), 0) << suite["suite"] << " reported no passing test";
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, ExampleTest, ::testing::Values("application", "data-task", "library"),
                         [](const auto& info) { return info.param == "data-task" ? std::string("data_task") : info.param; });

TEST(FailingExample, FailsAndNamesTheFailingTests) {
  TemporaryDirectory folder;
  auto repository = example_repository(folder, "application", true);
  SlipwayCommand slipway;
  auto output = slipway.run({"run", repository.string()});
  EXPECT_EQ(output.exit_code, 1);
  EXPECT_NE(output.out.find("UnknownPathIs404"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("test_unknown_path_is_404"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("must be 404"), std::string::npos) << "the failure's message is shown";
}

}  // namespace
}  // namespace slipway::testing
