// Secrets given to `slipway run` reach the steps as environment variables and appear nowhere in
// clear: not on the terminal, not in the logs, the reports, the summary or the database.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/files_containing.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

const char* kLeakySpec = R"yaml(kind: library
test:
  suites:
    leak:
      run: |
        echo "plain: $API_TOKEN"
        echo "base64: $(printf %s "$API_TOKEN" | base64 -w0)"
        echo "from env: $FROM_ENV" >&2
        echo "multi: $MULTI"
        echo "## Summary with $API_TOKEN" >> "$SLIPWAY_SUMMARY"
        mkdir -p reports
        printf '<testsuite name="s"><testcase name="t"><failure message="got %s"/></testcase></testsuite>' "$API_TOKEN" > reports/leak.xml
      junit: reports/leak.xml
)yaml";

TEST(Secrets, AreMaskedEverywhere) {
  const std::string token = "s3cr3t-T0ken/with+chars=";
  const std::string from_env = "environment-secret-value";
  ScratchRepository repo;
  repo.write(".slipway.yml", kLeakySpec);
  repo.commit();
  TemporaryDirectory secrets_folder;
  auto secrets_file = secrets_folder.path() / "secrets.env";
  std::ofstream(secrets_file) << "# test secrets\nAPI_TOKEN=" << token
                              << "\nMULTI<<END\nfirst line of it\nsecond line of it\nEND\n";
  ::setenv("FROM_ENV", from_env.c_str(), 1);
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--secrets-file", secrets_file.string(), "--secret", "FROM_ENV"});
  ::unsetenv("FROM_ENV");

  EXPECT_EQ(result.exit_code, 1) << "the report has a failure";
  EXPECT_NE(result.out.find("plain: ***"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("base64: ***"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("from env: ***"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("got ***"), std::string::npos) << "failure messages are masked too\n" << result.out;
  for (const std::string& secret : {token, from_env, std::string("first line of it")}) {
    EXPECT_EQ(result.out.find(secret), std::string::npos) << secret;
    EXPECT_EQ(result.err.find(secret), std::string::npos) << secret;
    EXPECT_TRUE(files_containing(slipway.data_dir(), secret).empty())
        << secret << " found in " << files_containing(slipway.data_dir(), secret).front();
  }
}

TEST(Secrets, UnsetEnvironmentSecretIsBadInput) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  repo.commit();
  ::unsetenv("SLIPWAY_TEST_NOT_SET");
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--secret", "SLIPWAY_TEST_NOT_SET"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("SLIPWAY_TEST_NOT_SET is not set"), std::string::npos) << result.err;
}

TEST(Secrets, MalformedSecretsFileNamesTheLine) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n");
  repo.commit();
  TemporaryDirectory folder;
  auto file = folder.path() / "bad.env";
  std::ofstream(file) << "GOOD=1\nthis line is wrong\n";
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--secrets-file", file.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("bad.env:2:"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace slipway::testing
