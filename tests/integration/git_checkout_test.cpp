// checkout_commit writes the workspace's .git itself instead of running `git clone`; these tests
// hold it to what a clone gave: the commit's files only, a detached HEAD at the commit, the whole
// history, the tags, origin's branches, a remote to fetch from, a clean status, objects a step
// creates kept out of the source — from a work tree, a bare repository, and (through the
// fallback) a linked worktree.
#include "ci/git_checkout.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::ScratchRepository;

std::string git_in(const fs::path& folder, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"git", "-C", folder.string(), "-c", "user.name=T", "-c",
                                       "user.email=t@slipway.invalid"});
  auto output = run_command_checked(arguments);
  EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
  return output.ok() ? std::string(trim(*output)) : std::string();
}

class GitCheckout : public ::testing::Test {
 protected:
  void SetUp() override {
    repository_.write("README.md", "first\n");
    first_ = repository_.commit("first");
    repository_.git({"tag", "-a", "v1.0", "-m", "release"});
    repository_.git({"tag", "light"});
    repository_.write("README.md", "second\n");
    repository_.write("src/main.sh", "echo hi\n", true);
    second_ = repository_.commit("second");
    repository_.git({"branch", "feature", first_});
    repository_.git({"pack-refs", "--all"});  // some refs packed…
    repository_.git({"tag", "loose"});         // …and some loose
    repository_.write("uncommitted.txt", "never in a run\n");
  }

  ScratchRepository repository_;
  TemporaryDirectory scratch_{"slipway-checkout"};
  std::string first_;
  std::string second_;
};

TEST_F(GitCheckout, GivesTheCommitDetachedWithItsHistoryTagsAndBranches) {
  fs::path workspace = scratch_.path() / "workspace";
  ASSERT_TRUE(checkout_commit(repository_.path(), second_, workspace).ok());
  EXPECT_EQ(*read_file(workspace / "README.md"), "second\n");
  EXPECT_FALSE(fs::exists(workspace / "uncommitted.txt"));
  EXPECT_TRUE((fs::status(workspace / "src/main.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "HEAD"}), second_);
  EXPECT_EQ(git_in(workspace, {"status", "--porcelain"}), "");
  EXPECT_EQ(git_in(workspace, {"rev-parse", "--abbrev-ref", "HEAD"}), "HEAD");  // detached
  EXPECT_EQ(git_in(workspace, {"rev-list", "--count", "HEAD"}), "2");
  EXPECT_EQ(git_in(workspace, {"describe", "--tags", "--abbrev=0", first_}), "v1.0");
  EXPECT_EQ(git_in(workspace, {"rev-parse", "v1.0^{commit}"}), first_);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "loose"}), second_);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "origin/main"}), second_);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "origin/feature"}), first_);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "origin/HEAD"}), second_);
  EXPECT_EQ(git_in(workspace, {"fsck", "--connectivity-only", "--no-dangling"}), "");
  git_in(workspace, {"fetch", "--quiet", "origin"});
}

TEST_F(GitCheckout, KeepsAStepsCommitsOutOfTheSource) {
  fs::path workspace = scratch_.path() / "workspace";
  ASSERT_TRUE(checkout_commit(repository_.path(), first_, workspace).ok());
  EXPECT_EQ(*read_file(workspace / "README.md"), "first\n");
  std::ofstream(workspace / "new.txt") << "made by a step\n";
  git_in(workspace, {"add", "new.txt"});
  git_in(workspace, {"commit", "--quiet", "-m", "step"});
  std::string made = git_in(workspace, {"rev-parse", "HEAD"});
  auto in_source = run_command_checked({"git", "-C", repository_.path().string(), "cat-file", "-e", made});
  EXPECT_FALSE(in_source.ok()) << "the step's commit landed in the source repository";
}

TEST_F(GitCheckout, WorksFromABareRepository) {
  fs::path bare = scratch_.path() / "bare.git";
  ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", repository_.path().string(), bare.string()}).ok());
  fs::path workspace = scratch_.path() / "workspace";
  ASSERT_TRUE(checkout_commit(bare, first_, workspace).ok());
  EXPECT_EQ(*read_file(workspace / "README.md"), "first\n");
  EXPECT_EQ(git_in(workspace, {"rev-parse", "HEAD"}), first_);
  EXPECT_EQ(git_in(workspace, {"rev-parse", "origin/main"}), second_);
}

TEST_F(GitCheckout, FallsBackToACloneForALinkedWorktree) {
  fs::path linked = scratch_.path() / "linked";
  repository_.git({"worktree", "add", "--quiet", "--detach", linked.string(), first_});
  fs::path workspace = scratch_.path() / "workspace";
  ASSERT_TRUE(checkout_commit(linked, second_, workspace).ok());
  EXPECT_EQ(*read_file(workspace / "README.md"), "second\n");
  EXPECT_EQ(git_in(workspace, {"rev-parse", "HEAD"}), second_);
}

// What a step may leave in .git — a hook, configuration, a ref, a .git that is a symlink — is
// gone after renew_git_directory, the work tree as the step left it.
TEST_F(GitCheckout, RenewingDotGitDropsWhatAStepWroteThereAndKeepsItsFiles) {
  fs::path linked = scratch_.path() / "linked";
  repository_.git({"worktree", "add", "--quiet", "--detach", linked.string(), first_});
  for (const fs::path& source : {repository_.path(), linked}) {  // the fast path and the clone
    SCOPED_TRACE(source.string());
    fs::path workspace = scratch_.path() / "workspace";
    fs::remove_all(workspace);
    ASSERT_TRUE(checkout_commit(source, second_, workspace).ok());
    fs::create_directories(workspace / ".git/hooks");
    std::ofstream(workspace / ".git/hooks/pre-push") << "#!/bin/sh\nexit 1\n";
    git_in(workspace, {"config", "core.hooksPath", ".git/hooks"});
    git_in(workspace, {"config", "alias.tag", "!false"});
    git_in(workspace, {"update-ref", "refs/replace/" + second_, first_});
    std::ofstream(workspace / "built.txt") << "made by a step\n";
    ASSERT_TRUE(renew_git_directory(source, second_, workspace).ok());
    EXPECT_FALSE(fs::exists(workspace / ".git/hooks/pre-push"));
    EXPECT_EQ(git_in(workspace, {"config", "--default", "none", "--get", "core.hooksPath"}), "none");
    EXPECT_EQ(git_in(workspace, {"rev-parse", "HEAD"}), second_);
    EXPECT_EQ(git_in(workspace, {"for-each-ref", "refs/replace"}), "");
    EXPECT_EQ(git_in(workspace, {"rev-parse", "origin/main"}), second_);
    EXPECT_EQ(*read_file(workspace / "built.txt"), "made by a step\n");
    EXPECT_EQ(*read_file(workspace / "README.md"), "second\n");

    // A .git replaced by a symlink goes as a link: what it named is untouched.
    fs::path elsewhere = scratch_.path() / "elsewhere";
    fs::create_directories(elsewhere);
    std::ofstream(elsewhere / "keep") << "keep\n";
    fs::remove_all(workspace / ".git");
    fs::create_directory_symlink(elsewhere, workspace / ".git");
    ASSERT_TRUE(renew_git_directory(source, second_, workspace).ok());
    EXPECT_TRUE(fs::exists(elsewhere / "keep"));
    EXPECT_EQ(git_in(workspace, {"rev-parse", "HEAD"}), second_);
  }
}

TEST_F(GitCheckout, RefusesAnUnknownCommitAndAnExistingWorkspace) {
  fs::path workspace = scratch_.path() / "workspace";
  Status unknown = checkout_commit(repository_.path(), std::string(40, 'a'), workspace);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("checkout of aaaa"), std::string::npos) << unknown.error().message;
  Status again = checkout_commit(repository_.path(), first_, workspace);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos) << again.error().message;
}

// resolve_commit reads HEAD from the files where it can (no git process): in every state a
// repository's HEAD can be in, its answer is git's own.
TEST_F(GitCheckout, ResolvesHeadAsGitDoesInEveryStateOfTheRepository) {
  auto expect_head_is = [](const fs::path& repository, const std::string& sha, const std::string& branch) {
    auto resolved = resolve_commit(repository, "HEAD");
    ASSERT_TRUE(resolved.ok()) << resolved.error().message;
    EXPECT_EQ(resolved->sha, sha) << repository;
    EXPECT_EQ(resolved->branch, branch) << repository;
  };
  // main's ref is packed (the fixture packed every ref)
  ASSERT_FALSE(fs::exists(repository_.path() / ".git/refs/heads/main"));
  expect_head_is(repository_.path(), second_, "main");
  // a new commit writes a loose ref, newer than the packed one
  repository_.write("README.md", "third\n");
  std::string third = repository_.commit("third");
  expect_head_is(repository_.path(), third, "main");
  // another branch, and a detached HEAD
  repository_.git({"checkout", "--quiet", "feature"});
  expect_head_is(repository_.path(), first_, "feature");
  repository_.git({"checkout", "--quiet", "--detach", second_});
  expect_head_is(repository_.path(), second_, "");
  // a bare repository, and a linked worktree (git answers)
  repository_.git({"checkout", "--quiet", "main"});
  fs::path bare = scratch_.path() / "bare.git";
  ASSERT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", repository_.path().string(), bare.string()}).ok());
  expect_head_is(bare, third, "main");
  fs::path linked = scratch_.path() / "linked";
  repository_.git({"worktree", "add", "--quiet", "-b", "side", linked.string(), first_});
  expect_head_is(linked, first_, "side");
  // a branch with no commit yet is git's "unknown revision", said as before
  repository_.git({"checkout", "--quiet", "--orphan", "empty"});
  auto unborn = resolve_commit(repository_.path(), "HEAD");
  ASSERT_FALSE(unborn.ok());
  EXPECT_NE(unborn.error().message.find("no commit 'HEAD' (is anything committed yet?)"), std::string::npos)
      << unborn.error().message;
}

// A HEAD no git would write — a ref that climbs out of refs/ — is not followed on disk: git reads
// it and refuses it.
TEST_F(GitCheckout, AHeadThatClimbsOutOfRefsIsLeftToGit) {
  fs::path git_dir = repository_.path() / ".git";
  std::ofstream(git_dir / "escape") << second_ << "\n";
  std::ofstream(git_dir / "HEAD", std::ios::trunc) << "ref: refs/heads/../../escape\n";
  auto resolved = resolve_commit(repository_.path(), "HEAD");
  EXPECT_FALSE(resolved.ok()) << "resolved to " << resolved->sha;
}

}  // namespace
}  // namespace slipway
