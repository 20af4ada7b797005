// GitObjects against the real git: one long-lived `git cat-file --batch-command` answering for a
// repository that changes under it, removed and made again at the same path, and asked things
// that must not reach it as commands.
#include "base/git_objects.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/scratch_repository.h"

namespace slipway {
namespace {

using testing::ScratchRepository;

TEST(GitObjects, SeesACommitMadeAfterItStarted) {
  ScratchRepository repo;
  std::string first = repo.commit("first");
  GitObjects objects(repo.path());
  auto head = objects.info("refs/heads/main^{commit}");
  ASSERT_TRUE(head.ok()) << head.error().message;
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->id, first);
  EXPECT_EQ((*head)->type, "commit");

  std::string second = repo.commit("second");
  head = objects.info("refs/heads/main^{commit}");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->id, second);
  // Packed since: still found.
  repo.git({"gc", "--quiet"});
  std::string third = repo.commit("third");
  head = objects.info("refs/heads/main^{commit}");
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->id, third);
  auto gone = objects.info("refs/heads/no-such-branch^{commit}");
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_FALSE(gone->has_value());
}

TEST(GitObjects, ReadsTheRootTreesEntriesAndABlobOfAKnownSize) {
  ScratchRepository repo;
  repo.write("plain.txt", "hello\n");
  repo.write("tool.sh", "#!/bin/sh\n", true);
  repo.write("folder/inside.txt", "x");
  std::filesystem::create_symlink("/etc/passwd", repo.path() / "link");
  std::string commit = repo.commit();
  GitObjects objects(repo.path());
  auto entry = [&](const std::string& name) {
    auto found = objects.root_entry(commit, name);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value() ? (*found)->mode : std::string("none");
  };
  EXPECT_EQ(entry("plain.txt"), "100644");
  EXPECT_EQ(entry("tool.sh"), "100755");
  EXPECT_EQ(entry("link"), "120000");
  EXPECT_EQ(entry("folder"), "40000");
  EXPECT_EQ(entry("missing"), "none");
  EXPECT_EQ(entry("inside.txt"), "none");  // only the root tree

  auto plain = objects.root_entry(commit, "plain.txt");
  ASSERT_TRUE(plain.ok() && plain->has_value());
  auto bytes = objects.contents((*plain)->id, 6);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "hello\n");
  EXPECT_FALSE(objects.contents((*plain)->id, 3).ok()) << "a blob longer than expected must be refused";
  // The conversation goes on after the refusal.
  bytes = objects.contents((*plain)->id, 6);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "hello\n");
}

TEST(GitObjects, ARevisionThatWouldBeASecondCommandIsRefused) {
  ScratchRepository repo;
  std::string commit = repo.commit();
  GitObjects objects(repo.path());
  auto injected = objects.info(commit + "\ncontents " + commit);
  ASSERT_FALSE(injected.ok());
  EXPECT_NE(injected.error().message.find("one line of printable characters"), std::string::npos);
  auto after = objects.info(commit);
  ASSERT_TRUE(after.ok() && after->has_value()) << "the refusal must not put the conversation out of step";
  EXPECT_EQ((*after)->type, "commit");
}

TEST(GitObjects, ARepositoryMadeAgainAtTheSamePathIsTheOneAnswering) {
  ScratchRepository repo;
  repo.commit("old");
  GitObjects objects(repo.path());
  ASSERT_TRUE(objects.info("refs/heads/main^{commit}").ok());
  std::filesystem::remove_all(repo.path());
  std::filesystem::create_directories(repo.path());
  repo.git({"init", "--quiet", "--initial-branch=main"});
  std::string fresh = repo.commit("new");
  auto head = objects.info("refs/heads/main^{commit}");
  ASSERT_TRUE(head.ok()) << head.error().message;
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->id, fresh);
}

// The fetch's question ("is this commit here yet?"): the running git's "missing" is believed,
// so a commit not fetched yet costs no new git; one that arrived since is still seen.
TEST(GitObjects, InfoOrMissingBelievesTheRunningGit) {
  ScratchRepository repo;
  repo.commit("old");
  GitObjects objects(repo.path());
  ASSERT_TRUE(objects.info("refs/heads/main^{commit}").ok());
  std::string later = repo.commit("later");
  auto found = objects.info_or_missing(later + "^{commit}");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value()) << "a commit made after git started is seen";
  EXPECT_EQ((*found)->id, later);

  // Made again at the same path: the running git (in the removed folder) answers, and its
  // "missing" stands; info() asks a new git and finds the commit.
  std::filesystem::remove_all(repo.path());
  std::filesystem::create_directories(repo.path());
  repo.git({"init", "--quiet", "--initial-branch=main"});
  std::string fresh = repo.commit("new");
  auto believed = objects.info_or_missing(fresh + "^{commit}");
  ASSERT_TRUE(believed.ok()) << believed.error().message;
  EXPECT_FALSE(believed->has_value());
  auto asked_again = objects.info(fresh + "^{commit}");
  ASSERT_TRUE(asked_again.ok() && asked_again->has_value());
  EXPECT_EQ((*asked_again)->id, fresh);
}

TEST(GitObjects, NotARepositorySaysWhatGitSaid) {
  TemporaryDirectory empty("slipway-not-a-repo");
  GitObjects objects(empty.path());
  auto answer = objects.info("HEAD");
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message.find("not a git repository"), std::string::npos) << answer.error().message;
  // Started early, the same: the git that could not start is the first question's to report.
  GitObjects early(empty.path());
  early.start_early();
  auto asked = early.info("HEAD");
  ASSERT_FALSE(asked.ok());
  EXPECT_NE(asked.error().message.find("not a git repository"), std::string::npos) << asked.error().message;
}

TEST(GitObjects, AGitStartedEarlyAnswersTheFirstQuestion) {
  ScratchRepository repo;
  std::string first = repo.commit("first");
  GitObjects objects(repo.path());
  objects.start_early();
  objects.start_early();  // one git, however often asked to start
  auto head = objects.info("refs/heads/main^{commit}");
  ASSERT_TRUE(head.ok()) << head.error().message;
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->id, first);
}

}  // namespace
}  // namespace slipway
