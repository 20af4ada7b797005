// A run's workspace as an overlay over its worker's template (ci/workspace_template.h), with the
// real git and the kernel's overlayfs: what the run sees, what it may change, what a second run
// writes, and what recovery does with a template an update left half done.
#include "ci/workspace_template.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "ci/git_checkout.h"
#include "ci/workspace_guard.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::ScratchRepository;

constexpr uid_t kOwner = 2'000'123;

std::string git_at(const fs::path& folder, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"git", "-C", folder.string()});
  auto output = run_command_checked(arguments);
  EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
  return output.ok() ? std::string(trim(*output)) : std::string();
}

// Which file this is and when it was last written: equal only if nothing wrote it in between.
std::string identity_of(const fs::path& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) return "missing";
  return fmt::format("{} {}.{}", status.st_ino, status.st_ctim.tv_sec, status.st_ctim.tv_nsec);
}

uid_t owner_of(const fs::path& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0 ? status.st_uid : static_cast<uid_t>(-1);
}

bool is_mount_point(const fs::path& path) {
  auto mounts = read_file("/proc/self/mountinfo");
  return mounts && mounts->find(" " + path.string() + " ") != std::string::npos;
}

class WorkspaceTemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!workspace_overlays_available()) GTEST_SKIP() << "needs root and overlayfs";
    for (int i = 0; i < 120; ++i) repository_.write(fmt::format("src/dir{}/file{}.txt", i / 40, i), fmt::format("file {}\n", i));
    repository_.write("run.sh", "echo hi\n", true);
    first_ = repository_.commit("first");
    repository_.write("src/dir0/file1.txt", "changed\n");
    fs::remove(repository_.path() / "src/dir2/file99.txt");
    repository_.write("added.txt", "new\n");
    second_ = repository_.commit("second");
  }

  // The run folder's workspace over the template, and its guard.
  WorkspaceGuard check_out(const std::string& sha, const std::string& run) {
    fs::path run_dir = scratch_.path() / run;
    fs::create_directories(run_dir);
    WorkspaceGuard guard(run_dir / "workspace", false, run_dir / "layers");
    Status done = checkout_over_template(template_, repository_.path(), sha, run_dir / "workspace", run_dir / "layers");
    EXPECT_TRUE(done.ok()) << done.error().message;
    return guard;
  }

  ScratchRepository repository_;
  TemporaryDirectory scratch_{"slipway-template"};
  WorkspaceTemplate template_{scratch_.path() / "templates" / "worker-0" / "app", kOwner};
  std::string first_, second_;
};

TEST_F(WorkspaceTemplateTest, TheWorkspaceIsTheCommitCleanAndTheOwnersWhatARunChangesStaysInItsLayer) {
  fs::path workspace = scratch_.path() / "run1" / "workspace";
  {
    WorkspaceGuard guard = check_out(first_, "run1");
    EXPECT_TRUE(is_mount_point(workspace));
    EXPECT_EQ(overlay_upper_layer(workspace), scratch_.path() / "run1" / "layers" / "upper");
    EXPECT_EQ(overlay_upper_layer(scratch_.path()), fs::path()) << "not a mount point";
    EXPECT_EQ(*read_file(workspace / "src/dir0/file1.txt"), "file 1\n");
    EXPECT_TRUE((fs::status(workspace / "run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
    EXPECT_EQ(owner_of(workspace / "src/dir0/file1.txt"), kOwner);
    EXPECT_EQ(owner_of(workspace / "src/dir0"), kOwner);
    EXPECT_EQ(git_at(workspace, {"rev-parse", "HEAD"}), first_);
    EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "") << "the template's index describes the files";
    EXPECT_EQ(git_at(workspace, {"rev-parse", "origin/main"}), second_);

    // What a step may do: change, remove and add files, commit.
    std::ofstream(workspace / "src/dir0/file2.txt", std::ios::app) << "appended\n";
    fs::remove(workspace / "src/dir1/file50.txt");
    fs::remove_all(workspace / "src/dir2");
    std::ofstream(workspace / "build.out") << "built\n";
    EXPECT_EQ(git_at(workspace, {"status", "--porcelain", "--", "src/dir0", "build.out"}),
              "M src/dir0/file2.txt\n?? build.out");
  }
  EXPECT_FALSE(is_mount_point(workspace)) << "the guard unmounts";
  EXPECT_FALSE(fs::exists(workspace));
  EXPECT_FALSE(fs::exists(scratch_.path() / "run1" / "layers"));
  fs::path tree = template_.folder / "tree";
  EXPECT_EQ(*read_file(tree / "src/dir0/file2.txt"), "file 2\n") << "the template never sees a run's writes";
  EXPECT_TRUE(fs::exists(tree / "src/dir1/file50.txt"));
  EXPECT_TRUE(fs::exists(tree / "src/dir2/file80.txt"));
  EXPECT_FALSE(fs::exists(tree / "build.out"));
}

TEST_F(WorkspaceTemplateTest, TheNextCommitWritesOnlyWhatChanged) {
  { WorkspaceGuard first = check_out(first_, "run1"); }
  fs::path tree = template_.folder / "tree";
  std::string unchanged = identity_of(tree / "src/dir0/file0.txt");
  WorkspaceGuard second = check_out(second_, "run2");
  fs::path workspace = scratch_.path() / "run2" / "workspace";
  EXPECT_EQ(identity_of(tree / "src/dir0/file0.txt"), unchanged) << "an unchanged file is not written again";
  EXPECT_EQ(*read_file(tree / "src/dir0/file1.txt"), "changed\n");
  EXPECT_EQ(*read_file(workspace / "src/dir0/file1.txt"), "changed\n");
  EXPECT_EQ(*read_file(workspace / "added.txt"), "new\n");
  EXPECT_EQ(owner_of(workspace / "added.txt"), kOwner);
  EXPECT_FALSE(fs::exists(workspace / "src/dir2/file99.txt"));
  EXPECT_EQ(git_at(workspace, {"rev-parse", "HEAD"}), second_);
  EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
}

// Modes, links and a file that becomes a folder: what git's own checkout does, given to the owner.
TEST_F(WorkspaceTemplateTest, AdvancingFollowsModesLinksAndAFileThatBecomesAFolder) {
  { WorkspaceGuard second = check_out(second_, "run1"); }
  std::string unchanged = identity_of(template_.folder / "tree" / "src/dir0/file0.txt");
  // A name that would be a pattern to git were it not taken literally, and a folder that
  // becomes a file.
  repository_.write(":(glob)*.txt", "literal\n");
  fs::remove_all(repository_.path() / "src/dir2");
  repository_.write("src/dir2", "now a file\n");
  fs::permissions(repository_.path() / "run.sh", fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::remove);
  fs::remove(repository_.path() / "added.txt");
  repository_.write("added.txt/inner/deep.txt", "deep\n");
  fs::create_symlink("src/dir0/file0.txt", repository_.path() / "link");
  std::string third = repository_.commit("third");
  WorkspaceGuard guard = check_out(third, "run2");
  fs::path workspace = scratch_.path() / "run2" / "workspace";
  EXPECT_EQ(*read_file(workspace / "added.txt/inner/deep.txt"), "deep\n");
  EXPECT_EQ(owner_of(workspace / "added.txt"), kOwner);
  EXPECT_EQ(owner_of(workspace / "added.txt/inner"), kOwner);
  EXPECT_EQ(owner_of(workspace / "link"), kOwner);
  EXPECT_EQ(fs::read_symlink(workspace / "link"), "src/dir0/file0.txt");
  EXPECT_TRUE((fs::status(workspace / "run.sh").permissions() & fs::perms::owner_exec) == fs::perms::none);
  EXPECT_EQ(*read_file(workspace / ":(glob)*.txt"), "literal\n");
  EXPECT_EQ(*read_file(workspace / "src/dir2"), "now a file\n");
  EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
  EXPECT_EQ(git_at(workspace, {"rev-parse", "HEAD"}), third);
  EXPECT_EQ(identity_of(template_.folder / "tree" / "src/dir0/file0.txt"), unchanged) << "advanced, not rebuilt";
}

// A template whose commit the source no longer has (a force push, then a gc) cannot advance
// from it: it is built again from nothing rather than served half right.
TEST_F(WorkspaceTemplateTest, ATemplateThatCannotAdvanceIsBuiltAgain) {
  { WorkspaceGuard first = check_out(first_, "run1"); }
  ASSERT_TRUE(write_file_atomically(template_.folder / "commit", std::string(40, 'a') + "\n"));
  std::ofstream(template_.folder / "tree" / "stray.txt") << "not in any commit\n";
  WorkspaceGuard second = check_out(second_, "run2");
  fs::path workspace = scratch_.path() / "run2" / "workspace";
  EXPECT_EQ(*read_file(workspace / "src/dir0/file1.txt"), "changed\n");
  EXPECT_FALSE(fs::exists(workspace / "stray.txt")) << "rebuilt, not advanced";
  EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
}

// A submodule (a gitlink) added, then removed: an empty folder as `git checkout` makes one, the
// index clean, and the folder gone again.
TEST_F(WorkspaceTemplateTest, AdvancingAddsAndRemovesASubmodulesFolder) {
  { WorkspaceGuard second = check_out(second_, "run1"); }
  repository_.git({"update-index", "--add", "--cacheinfo", "160000," + first_ + ",vendor/lib"});
  repository_.git({"-c", "user.name=T", "-c", "user.email=t@slipway.invalid", "commit", "--quiet", "-m", "submodule"});
  std::string with_submodule = std::string(trim(repository_.git({"rev-parse", "HEAD"})));
  {
    WorkspaceGuard guard = check_out(with_submodule, "run2");
    fs::path workspace = scratch_.path() / "run2" / "workspace";
    EXPECT_TRUE(fs::is_directory(workspace / "vendor/lib"));
    EXPECT_TRUE(fs::is_empty(workspace / "vendor/lib"));
    EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
  }
  repository_.git({"rm", "--quiet", "--cached", "vendor/lib"});
  repository_.git({"-c", "user.name=T", "-c", "user.email=t@slipway.invalid", "commit", "--quiet", "-m", "no submodule"});
  std::string without = std::string(trim(repository_.git({"rev-parse", "HEAD"})));
  WorkspaceGuard guard = check_out(without, "run3");
  fs::path workspace = scratch_.path() / "run3" / "workspace";
  EXPECT_FALSE(fs::exists(workspace / "vendor")) << "the folder and the one above it, left empty, go";
  EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
}

TEST_F(WorkspaceTemplateTest, ATemplateLeftHalfUpdatedIsBuiltAgainFromNothing) {
  { WorkspaceGuard first = check_out(first_, "run1"); }
  // An update that died after writing a stray file and before recording its commit.
  fs::remove(template_.folder / "commit");
  std::ofstream(template_.folder / "tree" / "stray.txt") << "half an update\n";
  std::ofstream(template_.folder / "tree" / "src/dir0/file0.txt") << "torn\n";
  WorkspaceGuard second = check_out(second_, "run2");
  fs::path workspace = scratch_.path() / "run2" / "workspace";
  EXPECT_FALSE(fs::exists(workspace / "stray.txt"));
  EXPECT_EQ(*read_file(workspace / "src/dir0/file0.txt"), "file 0\n");
  EXPECT_EQ(git_at(workspace, {"status", "--porcelain"}), "");
}

TEST_F(WorkspaceTemplateTest, ASourceOnlyGitCloneReadsIsRefusedWithNothingMounted) {
  fs::path linked = scratch_.path() / "linked";
  repository_.git({"worktree", "add", "--quiet", "--detach", linked.string(), first_});
  fs::path workspace = scratch_.path() / "run1" / "workspace";
  fs::create_directories(workspace.parent_path());
  Status refused = checkout_over_template(template_, linked, second_, workspace, scratch_.path() / "run1" / "layers");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("git clone"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(is_mount_point(workspace));

  Status existing = checkout_over_template(template_, repository_.path(), first_, scratch_.path(), scratch_.path() / "l");
  ASSERT_FALSE(existing.ok());
  EXPECT_NE(existing.error().message.find("already exists"), std::string::npos) << existing.error().message;

  fs::path odd = scratch_.path() / "a,b";
  Status unmountable = checkout_over_template(WorkspaceTemplate{odd, kOwner}, repository_.path(), first_,
                                              scratch_.path() / "run3" / "workspace", scratch_.path() / "run3" / "l");
  ASSERT_FALSE(unmountable.ok());
  EXPECT_NE(unmountable.error().message.find("cannot name"), std::string::npos) << unmountable.error().message;
}

// A worker beyond the concurrency and a repository gone from the configuration leave templates
// no one will use: start-up removes them and keeps the rest.
TEST(WorkspaceTemplates, WhatNoWorkerWillUseAgainIsRemoved) {
  TemporaryDirectory root("slipway-templates");
  for (const char* folder : {"worker-0/app", "worker-0/gone", "worker-1/app", "worker-2/app"}) {
    fs::create_directories(root.path() / folder / "tree");
    std::ofstream(root.path() / folder / "tree" / "file.txt") << "twelve bytes";
  }
  uint64_t freed = remove_unused_templates(root.path(), 2, {"app"});
  EXPECT_EQ(freed, 24u);
  EXPECT_TRUE(fs::exists(root.path() / "worker-0/app/tree/file.txt"));
  EXPECT_TRUE(fs::exists(root.path() / "worker-1/app/tree/file.txt"));
  EXPECT_FALSE(fs::exists(root.path() / "worker-0/gone"));
  EXPECT_FALSE(fs::exists(root.path() / "worker-2"));
  EXPECT_EQ(remove_unused_templates(root.path() / "missing", 2, {"app"}), 0u);
}

}  // namespace
}  // namespace slipway
