// Library publish against a real bare repository as origin, from a real Slipway workspace
// (ci/git_checkout.h): the first release is v0.1.0, versions compare numerically, only exact
// vX.Y.Z tags count and only origin's, a version file is read as committed, an existing tag is
// refused with nothing pushed, a retry pushes nothing new, a refusing origin gives a clear
// error, and what lands on origin is an annotated tag on the commit.
#include "publish/version_tag.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "ci/git_checkout.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::ScratchRepository;

std::string git_in(const fs::path& folder, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"git", "-C", folder.string(), "-c", "user.name=Dev", "-c",
                                       "user.email=dev@slipway.invalid"});
  auto output = run_command_checked(arguments);
  EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
  return output.ok() ? std::string(trim(*output)) : std::string();
}

TagSpec bump(const std::string& part) { return TagSpec{part, ""}; }
TagSpec version_file(const std::string& file) { return TagSpec{"", file}; }

class VersionTag : public ::testing::Test {
 protected:
  void SetUp() override {
    git_in(scratch_.path(), {"init", "--quiet", "--bare", origin()});
    source_.write("README.md", "a library\n");
    first_ = source_.commit("first");
    push_main();
  }

  std::string origin() const { return (scratch_.path() / "origin.git").string(); }

  void push_main() { source_.git({"push", "--quiet", origin(), "main"}); }

  // A new commit on main, pushed to origin.
  std::string commit(const std::string& file, const std::string& content) {
    source_.write(file, content);
    std::string sha = source_.commit("change " + file);
    push_main();
    return sha;
  }

  // A tag made by a developer and pushed to origin.
  void tag_on_origin(const std::string& name, const std::string& sha, bool annotated = true) {
    if (annotated) {
      git_in(source_.path(), {"tag", "--annotate", "--message", "by hand", name, sha});
    } else {
      git_in(source_.path(), {"tag", name, sha});
    }
    source_.git({"push", "--quiet", origin(), "refs/tags/" + name});
  }

  // A fresh workspace of `sha`, made the way a run makes one: from the repository's URL.
  fs::path workspace(const std::string& sha) {
    fs::path folder = scratch_.path() / ("workspace-" + std::to_string(++workspaces_));
    Status made = checkout_commit(origin(), sha, folder);
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    return folder;
  }

  Result<PublishedTag> publish(const std::string& sha, const TagSpec& spec, const fs::path& ws = {}) {
    lines_.clear();
    TagPublishRequest request{ws.empty() ? workspace(sha) : ws, origin(), sha, spec};
    return publish_version_tag(request, [&](std::string_view line) { lines_.emplace_back(line); });
  }

  std::string origin_refs() { return git_in(origin(), {"for-each-ref", "--format=%(objectname) %(refname)"}); }

  std::string all_lines() const { return join(lines_, "\n"); }

  TemporaryDirectory scratch_{"slipway-tag"};
  ScratchRepository source_;
  std::string first_;
  std::vector<std::string> lines_;
  int workspaces_ = 0;
};

TEST_F(VersionTag, FirstReleaseOfAnUntaggedRepositoryIsV010AnnotatedOnTheCommit) {
  auto published = publish(first_, bump("patch"));
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->tag, "v0.1.0");
  EXPECT_EQ(published->commit, first_);
  EXPECT_EQ(published->origin, origin());
  EXPECT_TRUE(published->created);

  EXPECT_EQ(git_in(origin(), {"cat-file", "-t", "refs/tags/v0.1.0"}), "tag") << "annotated, not lightweight";
  EXPECT_EQ(git_in(origin(), {"rev-parse", "refs/tags/v0.1.0"}), published->tag_object);
  EXPECT_EQ(git_in(origin(), {"rev-parse", "refs/tags/v0.1.0^{commit}"}), first_);
  EXPECT_EQ(git_in(origin(), {"for-each-ref", "--format=%(contents:subject)|%(taggername) %(taggeremail)",
                              "refs/tags/v0.1.0"}),
            "Release v0.1.0|Slipway <slipway@localhost>");
  EXPECT_EQ(git_in(origin(), {"for-each-ref", "--format=%(refname)"}), "refs/heads/main\nrefs/tags/v0.1.0")
      << "only the tag ref was pushed";
  EXPECT_NE(all_lines().find("first release, v0.1.0"), std::string::npos) << all_lines();
  EXPECT_NE(all_lines().find("verified"), std::string::npos) << all_lines();

  auto latest = latest_version_tag(origin());
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(*latest, (SemanticVersion{0, 1, 0}));
}

TEST_F(VersionTag, VersionsCompareNumericallyNotAsText) {
  tag_on_origin("v1.2.8", first_);
  tag_on_origin("v1.2.9", first_);
  auto tenth = publish(commit("a.txt", "a\n"), bump("patch"));
  ASSERT_TRUE(tenth.ok()) << tenth.error().message;
  EXPECT_EQ(tenth->tag, "v1.2.10");
  EXPECT_NE(all_lines().find("latest release on origin is v1.2.9; patch bump gives v1.2.10"), std::string::npos)
      << all_lines();

  auto eleventh = publish(commit("b.txt", "b\n"), bump("patch"));
  ASSERT_TRUE(eleventh.ok()) << eleventh.error().message;
  EXPECT_EQ(eleventh->tag, "v1.2.11") << "v1.2.10 is the latest, though \"v1.2.10\" < \"v1.2.9\" as text";

  auto minor = publish(commit("c.txt", "c\n"), bump("minor"));
  ASSERT_TRUE(minor.ok()) << minor.error().message;
  EXPECT_EQ(minor->tag, "v1.3.0");
  auto major = publish(commit("d.txt", "d\n"), bump("major"));
  ASSERT_TRUE(major.ok()) << major.error().message;
  EXPECT_EQ(major->tag, "v2.0.0");
}

TEST_F(VersionTag, OnlyExactReleaseTagsOnOriginCount) {
  tag_on_origin("v1.0.0", first_);
  tag_on_origin("v1.0.1", first_, /*annotated=*/false);  // lightweight, still a release
  for (const char* other : {"v10.0", "v9.0.0-rc1", "release-5.0.0", "3.0.0", "v01.0.0", "latest"}) {
    tag_on_origin(other, first_);
  }
  std::string second = commit("a.txt", "a\n");
  fs::path ws = workspace(second);
  git_in(ws, {"tag", "v7.0.0", second});  // a stale local tag origin does not have

  auto latest_on_origin = latest_version_tag(origin());
  ASSERT_TRUE(latest_on_origin.ok()) << latest_on_origin.error().message;
  EXPECT_EQ(*latest_on_origin, (SemanticVersion{1, 0, 1}));
  EXPECT_EQ(*latest_version_tag(ws), (SemanticVersion{7, 0, 0})) << "the workspace's own view differs…";

  auto published = publish(second, bump("patch"), ws);
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->tag, "v1.0.2") << "…and is not the one that counts";
}

TEST_F(VersionTag, VersionFileIsReadAsCommitted) {
  std::string sha = commit("VERSION", "2.3.4\n");
  fs::path ws = workspace(sha);
  std::ofstream(ws / "VERSION") << "9.9.9\n";  // a step changed the workspace's copy
  auto published = publish(sha, version_file("VERSION"), ws);
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->tag, "v2.3.4");
  EXPECT_EQ(git_in(origin(), {"rev-parse", "refs/tags/v2.3.4^{commit}"}), sha);
  EXPECT_NE(all_lines().find("version 2.3.4 read from VERSION"), std::string::npos) << all_lines();

  auto bad = publish(commit("VERSION", "\n2.4\n"), version_file("VERSION"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("VERSION:2: '2.4' is not a version", 0), 0u) << bad.error().message;

  auto missing = publish(sha, version_file("lib/VERSION"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("lib/VERSION: not found in commit " + sha.substr(0, 7)), std::string::npos)
      << missing.error().message;
}

TEST_F(VersionTag, ATagOriginHasElsewhereIsRefusedAndNothingIsPushed) {
  tag_on_origin("v1.0.0", first_);
  std::string sha = commit("VERSION", "1.0.0\n");
  std::string before = origin_refs();
  fs::path ws = workspace(sha);
  auto refused = publish(sha, version_file("VERSION"), ws);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "tag v1.0.0 already exists on origin (at " + first_.substr(0, 7) +
                                         "): bump VERSION or delete the tag");
  EXPECT_EQ(origin_refs(), before);
  EXPECT_EQ(git_in(ws, {"rev-parse", "refs/tags/v1.0.0^{commit}"}), first_) << "no tag made in the workspace";
}

TEST_F(VersionTag, ATagOnlyInTheWorkspaceIsRefused) {
  fs::path ws = workspace(first_);
  git_in(ws, {"tag", "v0.1.0", first_});
  std::string before = origin_refs();
  auto refused = publish(first_, bump("patch"), ws);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("tag v0.1.0 already exists in the workspace"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(origin_refs(), before);
}

// Staging and production both publish a library commit on main, and a failed job is retried:
// the commit is released once, and the later publishes report that release.
TEST_F(VersionTag, ACommitAlreadyReleasedOnOriginIsNotReleasedAgain) {
  auto first = publish(first_, bump("patch"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string after_first = origin_refs();
  auto again = publish(first_, bump("minor"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->tag, "v0.1.0");
  EXPECT_EQ(again->tag_object, first->tag_object);
  EXPECT_EQ(origin_refs(), after_first);

  std::string sha = commit("VERSION", "3.0.0\n");
  ASSERT_TRUE(publish(sha, version_file("VERSION")).ok());
  auto retried = publish(sha, version_file("VERSION"));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_FALSE(retried->created);
  EXPECT_EQ(retried->tag, "v3.0.0");
}

TEST_F(VersionTag, AnOriginThatRefusesThePushGivesAClearError) {
  fs::path hook = fs::path(origin()) / "hooks/pre-receive";
  std::ofstream(hook) << "#!/bin/sh\necho 'tags are frozen during the audit' >&2\nexit 1\n";
  fs::permissions(hook, fs::perms(0755));
  fs::path ws = workspace(first_);
  auto refused = publish(first_, bump("patch"), ws);
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("pushing tag v0.1.0 to " + origin() + " failed"), std::string::npos) << message;
  EXPECT_NE(message.find("tags are frozen during the audit"), std::string::npos) << message;
  EXPECT_NE(message.find("pre-receive hook declined"), std::string::npos) << message;
  EXPECT_EQ(git_in(origin(), {"tag", "--list"}), "");
  EXPECT_EQ(git_in(ws, {"tag", "--list", "v0.1.0"}), "") << "the workspace's tag is gone, so a retry can start";

  fs::remove(hook);
  auto retried = publish(first_, bump("patch"), ws);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->tag, "v0.1.0");
}

TEST_F(VersionTag, BadRequestsAndUnreachableOriginsAreClearErrors) {
  fs::path ws = workspace(first_);
  TagPublishRequest request{ws, (scratch_.path() / "no-such.git").string(), first_, bump("patch")};
  auto unreachable = publish_version_tag(request, {});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.error().message.find("cannot read the tags of"), std::string::npos)
      << unreachable.error().message;

  request.origin = origin();
  request.commit = "abc123";
  EXPECT_NE(publish_version_tag(request, {}).error().message.find("not a full commit sha"), std::string::npos);
  request.commit = first_;
  request.spec = bump("tiny");
  EXPECT_NE(publish_version_tag(request, {}).error().message.find("major, minor or patch"), std::string::npos);
  request.spec = TagSpec{};
  EXPECT_NE(publish_version_tag(request, {}).error().message.find("exactly one"), std::string::npos);
  request.spec = bump("patch");
  request.origin = "--upload-pack=touch /tmp/pwned";
  EXPECT_FALSE(publish_version_tag(request, {}).ok());
  EXPECT_EQ(git_in(origin(), {"tag", "--list"}), "") << "nothing was pushed by any of these";
}

TEST(OriginForDisplay, DropsCredentialsFromUrlsOnly) {
  EXPECT_EQ(origin_for_display("https://bot:s3cret@git.example/team/lib.git"), "https://git.example/team/lib.git");
  EXPECT_EQ(origin_for_display("https://git.example/team/lib.git"), "https://git.example/team/lib.git");
  EXPECT_EQ(origin_for_display("ssh://git@host/lib.git"), "ssh://host/lib.git");
  EXPECT_EQ(origin_for_display("https://host/path@with-at"), "https://host/path@with-at");
  EXPECT_EQ(origin_for_display("/srv/git/lib.git"), "/srv/git/lib.git");
  EXPECT_EQ(origin_for_display("git@host:lib.git"), "git@host:lib.git");
}

}  // namespace
}  // namespace slipway
