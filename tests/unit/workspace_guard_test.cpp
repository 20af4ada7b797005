// WorkspaceGuard: the workspace goes with the guard — on any way out — unless it is to be kept;
// moving the guard moves the removal with it, so it happens once, where the outcome ends.
#include "ci/workspace_guard.h"

#include <gtest/gtest.h>

#include "base/files.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

fs::path make_workspace(const fs::path& root) {
  fs::path workspace = root / "runs/7/workspace";
  fs::create_directories(workspace / "src");
  EXPECT_TRUE(write_file_atomically(workspace / "src/main.c", "int main(void) { return 0; }\n"));
  return workspace;
}

TEST(WorkspaceGuard, TheWorkspaceGoesWithTheGuard) {
  TemporaryDirectory root;
  fs::path workspace = make_workspace(root.path());
  { WorkspaceGuard guard(workspace, false); }
  EXPECT_FALSE(fs::exists(workspace));
  EXPECT_TRUE(fs::exists(workspace.parent_path())) << "only the workspace, not the run's folder";
}

TEST(WorkspaceGuard, AKeptWorkspaceStays) {
  TemporaryDirectory root;
  fs::path workspace = make_workspace(root.path());
  { WorkspaceGuard guard(workspace, true); }
  EXPECT_TRUE(fs::exists(workspace / "src/main.c"));
}

TEST(WorkspaceGuard, MovedTheRemovalHappensOnceWhereTheLastOwnerGoes) {
  TemporaryDirectory root;
  fs::path workspace = make_workspace(root.path());
  WorkspaceGuard outer;
  {
    WorkspaceGuard inner(workspace, false);
    outer = std::move(inner);
  }
  EXPECT_TRUE(fs::exists(workspace)) << "the moved-from guard removes nothing";
  outer.remove_now();
  EXPECT_FALSE(fs::exists(workspace));
  fs::create_directories(workspace);
  outer.remove_now();
  EXPECT_TRUE(fs::exists(workspace)) << "once only: a later folder of the same name is not its";
}

}  // namespace
}  // namespace slipway
