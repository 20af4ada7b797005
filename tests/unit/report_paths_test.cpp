#include "ci/report_paths.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/files.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

// A workspace with reports at several depths, and a folder beside it that it must not reach.
class ReportPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(workspace_);
    fs::create_directories(outside_);
    touch(outside_ / "secret.xml");
    touch(workspace_ / "reports/unit.xml");
    touch(workspace_ / "reports/integration.xml");
    touch(workspace_ / "reports/notes.txt");
    touch(workspace_ / "reports/.hidden.xml");
    fs::create_directories(workspace_ / "reports/folder.xml");
    touch(workspace_ / "TEST-root.xml");
    touch(workspace_ / "target/surefire-reports/TEST-com.example.CalculatorTest.xml");
    touch(workspace_ / "modules/a/target/surefire-reports/TEST-com.example.ATest.xml");
    touch(workspace_ / ".cache/TEST-cached.xml");
  }

  void touch(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "<testsuites/>";
  }

  std::vector<std::string> resolve(const std::string& pattern) {
    auto paths = resolve_report_paths(workspace_, pattern);
    EXPECT_TRUE(paths.ok()) << paths.error().message;
    std::vector<std::string> relative;
    if (paths.ok()) {
      for (const fs::path& path : *paths) relative.push_back(path.lexically_relative(workspace_).string());
    }
    return relative;
  }

  std::string error_for(const std::string& pattern) {
    auto paths = resolve_report_paths(workspace_, pattern);
    EXPECT_FALSE(paths.ok()) << pattern << " resolved";
    return paths.ok() ? std::string() : paths.error().message;
  }

  TemporaryDirectory temporary_{"report-paths"};
  fs::path workspace_ = temporary_.path() / "workspace";
  fs::path outside_ = temporary_.path() / "outside";
};

using Paths = std::vector<std::string>;

TEST_F(ReportPathsTest, FindsAPlainFile) {
  EXPECT_EQ(resolve("reports/unit.xml"), Paths{"reports/unit.xml"});
  EXPECT_EQ(resolve("./reports//unit.xml"), Paths{"reports/unit.xml"});
}

TEST_F(ReportPathsTest, ExpandsAGlobToSortedRegularFiles) {
  EXPECT_EQ(resolve("reports/*.xml"), (Paths{"reports/integration.xml", "reports/unit.xml"}));
  EXPECT_EQ(resolve("reports/?nit.xml"), Paths{"reports/unit.xml"});
  EXPECT_EQ(resolve("reports/.hidden.xml"), Paths{"reports/.hidden.xml"});  // named, not matched
}

TEST_F(ReportPathsTest, DoubleStarMatchesAnyDepthButNotHiddenFolders) {
  EXPECT_EQ(resolve("**/TEST-*.xml"),
            (Paths{"TEST-root.xml", "modules/a/target/surefire-reports/TEST-com.example.ATest.xml",
                   "target/surefire-reports/TEST-com.example.CalculatorTest.xml"}));
  EXPECT_EQ(resolve("modules/**/surefire-reports/*.xml"),
            Paths{"modules/a/target/surefire-reports/TEST-com.example.ATest.xml"});
  EXPECT_EQ(resolve("**/**/TEST-root.xml"), Paths{"TEST-root.xml"});
}

TEST_F(ReportPathsTest, NoMatchIsAnEmptyList) {
  EXPECT_EQ(resolve("reports/missing.xml"), Paths{});
  EXPECT_EQ(resolve("nowhere/*.xml"), Paths{});
  EXPECT_EQ(resolve("reports/unit.xml/deeper"), Paths{});
}

TEST_F(ReportPathsTest, RejectsPathsThatLeaveTheWorkspace) {
  EXPECT_EQ(error_for("../x.xml"),
            "report path '../x.xml' escapes the workspace: use a path inside the repository");
  EXPECT_NE(error_for("/etc/passwd").find("'/etc/passwd' escapes the workspace"), std::string::npos);
  EXPECT_NE(error_for("a/../../x").find("escapes the workspace"), std::string::npos);
  EXPECT_NE(error_for("reports/../reports/unit.xml").find("escapes"), std::string::npos);
  EXPECT_NE(error_for("").find("empty"), std::string::npos);
}

TEST_F(ReportPathsTest, RejectsASymlinkedFileThatPointsOutside) {
  fs::create_symlink(outside_ / "secret.xml", workspace_ / "reports/evil.xml");
  EXPECT_NE(error_for("reports/evil.xml").find("'reports/evil.xml'"), std::string::npos);
  EXPECT_NE(error_for("reports/*.xml").find("leads outside the workspace"), std::string::npos);
}

TEST_F(ReportPathsTest, AcceptsASymlinkThatStaysInside) {
  fs::create_symlink(workspace_ / "reports", workspace_ / "latest");
  fs::create_symlink("unit.xml", workspace_ / "reports/current.xml");
  EXPECT_EQ(resolve("latest/unit.xml"), Paths{"latest/unit.xml"});
  EXPECT_EQ(resolve("reports/current.xml"), Paths{"reports/current.xml"});
}

TEST_F(ReportPathsTest, NeverFollowsASymlinkedFolderOutside) {
  fs::create_symlink(outside_, workspace_ / "linked");
  EXPECT_NE(error_for("linked/secret.xml").find("'linked'"), std::string::npos);
  EXPECT_NE(error_for("linked/*.xml").find("leads outside"), std::string::npos);
  EXPECT_EQ(resolve("*/secret.xml"), Paths{});    // a wildcard does not go through it
  EXPECT_EQ(resolve("**/secret.xml"), Paths{});   // nor does **
}

TEST_F(ReportPathsTest, SymlinkLoopsEndTheWalk) {
  fs::create_symlink(workspace_, workspace_ / "reports/loop");
  EXPECT_EQ(resolve("**/unit.xml"), Paths{"reports/unit.xml"});
  EXPECT_EQ(resolve("reports/loop/reports/loop/reports/unit.xml"),
            Paths{"reports/loop/reports/loop/reports/unit.xml"});
}

}  // namespace
}  // namespace slipway
