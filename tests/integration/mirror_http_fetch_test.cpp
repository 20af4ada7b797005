// The mirror's in-process incremental fetch (ci/mirror_http_fetch.h) against a real forge: git
// http-backend behind nginx over loopback HTTPS with a private CA and Basic auth. The mirror must
// end exactly as `git fetch --prune` would leave it, the forge's log must show the fetch was the
// server's own (user agent git/slipway, one capability request for several fetches), and what
// the server trusts must not widen: another CA, or a wrong token, still fail as git's do.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/files.h"
#include "ci/mirror_http_fetch.h"
#include "ci/repository_mirrors.h"
#include "support/git_https_server.h"
#include "support/scratch_repository.h"
#include "support/server_secrets.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::GitHttpsServer;
using testing::ScratchRepository;
using testing::ServerSecrets;

std::string git_in(const fs::path& repository, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", repository.string()});
  auto output = run_command_checked(args);
  EXPECT_TRUE(output.ok()) << output.error().message;
  return output.ok() ? *output : "";
}

// "ID NAME" lines of a repository's mirrored refs, sorted.
std::string mirrored_refs_of(const fs::path& repository) {
  std::vector<std::string> lines;
  for (const std::string& line : split(git_in(repository, {"for-each-ref", "--format=%(objectname) %(refname)"}), '\n')) {
    if (line.size() > 41 && is_mirrored_ref(line.substr(41))) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return join(lines, "\n");
}

// The forge's log lines that came from the server's own fetch (its user agent).
std::vector<std::string> in_process_requests(const GitHttpsServer& forge) {
  std::vector<std::string> lines;
  for (const std::string& line : split(forge.access_log(), '\n')) {
    if (line.find("\"git/slipway\"") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

size_t count_containing(const std::vector<std::string>& lines, std::string_view needle) {
  return std::count_if(lines.begin(), lines.end(), [&](const std::string& line) { return line.find(needle) != std::string::npos; });
}

class MirrorHttpFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge_.token()).ok());
    work_.write("README.md", "first\n");
    work_.commit("first");
    work_.git({"branch", "feature"});
    work_.git({"branch", "gone"});
    work_.git({"-c", "user.name=T", "-c", "user.email=t@slipway.invalid", "tag", "-a", "-m", "one", "v1"});
    bare_ = forge_.repositories() / "web.git";
    git_in(work_.path(), {"clone", "--quiet", "--bare", work_.path().string(), bare_.string()});
    push({"HEAD:refs/pull/1/head"});
  }

  void push(std::vector<std::string> refspecs) {
    std::vector<std::string> args = {"push", "--quiet", "--force", bare_.string()};
    args.insert(args.end(), refspecs.begin(), refspecs.end());
    work_.git(args);
  }

  std::unique_ptr<RepositoryMirrors> open_mirrors(const std::string& ca_file) {
    RepositoryConfig repository{.name = "web", .url = forge_.url("web")};
    repository.auth.token_secret = "GITHUB_TOKEN";
    repository.ca_file = ca_file;
    auto mirrors = RepositoryMirrors::open(server_.data, {repository}, *server_.secrets);
    EXPECT_TRUE(mirrors.ok()) << mirrors.error().message;
    return mirrors.ok() ? std::move(*mirrors) : nullptr;
  }

  // Mirrored once, by git (a mirror's first fetch).
  std::unique_ptr<RepositoryMirrors> mirrored() {
    auto mirrors = open_mirrors(forge_.ca_file().string());
    Status fetched = mirrors ? mirrors->fetch("web") : Status(make_error("no mirrors"));
    EXPECT_TRUE(fetched.ok()) << fetched.error().message;
    EXPECT_EQ(in_process_requests(forge_).size(), 0u) << "the first fetch is git's";
    return mirrors;
  }

  GitHttpsServer forge_;
  ServerSecrets server_;
  ScratchRepository work_;
  fs::path bare_;
};

TEST_F(MirrorHttpFetchTest, IncrementalFetchesAreTheServersOwnAndLeaveWhatGitFetchWould) {
  auto mirrors = mirrored();
  ASSERT_TRUE(mirrors);
  const fs::path mirror = mirrors->mirror_path("web");

  // Many new objects (stored as a pack, with thin deltas completed) and every kind of ref change:
  // a branch moved and one made, one deleted, a tag moved and one made, a pull request's head
  // made while its merge ref (not mirrored) is not.
  for (int i = 0; i < 120; ++i) work_.write(fmt::format("src/file{:03}.txt", i), fmt::format("file {}\n", i));
  work_.write("README.md", "first\nsecond\n");
  std::string second = work_.commit("second");
  work_.git({"branch", "-f", "feature", second});
  work_.git({"-c", "user.name=T", "-c", "user.email=t@slipway.invalid", "tag", "-f", "-a", "-m", "moved", "v1"});
  work_.git({"tag", "v2"});
  push({"main", "feature", "v1", "v2", "HEAD:refs/heads/new", ":refs/heads/gone", "HEAD:refs/pull/2/head",
        "HEAD~1:refs/pull/2/merge"});
  Status fetched = mirrors->fetch("web");
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(mirrored_refs_of(mirror), mirrored_refs_of(bare_));
  EXPECT_EQ(git_in(mirror, {"rev-parse", "refs/heads/main"}), second + "\n");
  EXPECT_EQ(run_command({"git", "-C", mirror.string(), "rev-parse", "--verify", "-q", "refs/heads/gone"})->exit_code, 1);
  EXPECT_TRUE(git_in(mirror, {"for-each-ref", "refs/pull/2/merge"}).empty());
  EXPECT_TRUE(run_command_checked({"git", "-C", mirror.string(), "fsck", "--connectivity-only", "--no-dangling"}).ok());
  std::vector<std::string> requests = in_process_requests(forge_);
  EXPECT_EQ(count_containing(requests, "GET /web.git/info/refs?service=git-upload-pack"), 1u) << forge_.access_log();
  EXPECT_EQ(count_containing(requests, "POST /web.git/git-upload-pack"), 2u) << forge_.access_log();  // ls-refs, fetch

  // A small change (its objects stored loose), then nothing new: the capabilities are not asked
  // again, and a fetch with nothing new lists the refs and stops there.
  work_.write("README.md", "third\n");
  std::string third = work_.commit("third");
  push({"main"});
  ASSERT_TRUE(mirrors->fetch("web").ok());
  EXPECT_EQ(git_in(mirror, {"rev-parse", "refs/heads/main"}), third + "\n");
  ASSERT_TRUE(mirrors->fetch("web").ok());
  EXPECT_EQ(mirrored_refs_of(mirror), mirrored_refs_of(bare_));
  requests = in_process_requests(forge_);
  EXPECT_EQ(count_containing(requests, "GET /web.git/info/refs"), 1u) << forge_.access_log();
  EXPECT_EQ(count_containing(requests, "POST /web.git/git-upload-pack"), 5u) << forge_.access_log();
  // The token went in its header: the forge authenticated every one of them.
  EXPECT_EQ(count_containing(requests, " x-access-token "), requests.size()) << forge_.access_log();
}

TEST_F(MirrorHttpFetchTest, AnotherCaIsNotTrustedInProcessEither) {
  ASSERT_TRUE(mirrored());
  TemporaryDirectory other("slipway-other-ca");
  const fs::path other_ca = testing::make_another_ca(other.path());
  ASSERT_FALSE(other_ca.empty());
  work_.write("README.md", "second\n");
  work_.commit("second");
  push({"main"});
  size_t logged = forge_.access_log().size();
  auto pinned = open_mirrors(other_ca.string());
  ASSERT_TRUE(pinned);
  Status fetched = pinned->fetch("web");
  ASSERT_FALSE(fetched.ok());
  EXPECT_NE(fetched.error().message.find("is not trusted: for a private CA, set `ca_file:`"), std::string::npos)
      << fetched.error().message;
  EXPECT_EQ(forge_.access_log().size(), logged) << "no request got past the handshake";
}

TEST_F(MirrorHttpFetchTest, AWrongTokenStillFailsNamingTheSecretAndNeverItsValue) {
  ASSERT_TRUE(mirrored());
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", "tok-wrong-9876543210").ok());
  auto mirrors = open_mirrors(forge_.ca_file().string());
  ASSERT_TRUE(mirrors);
  Status fetched = mirrors->fetch("web");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().message, "authentication failed for " + forge_.url("web") + ": check secret GITHUB_TOKEN");
  EXPECT_EQ(count_containing(in_process_requests(forge_), "\" 401 "), 1u) << forge_.access_log();
}

TEST(MirrorConnectivity, ACommitWhoseObjectsAreMissingIsRefused) {
  ScratchRepository repository;
  repository.write("a.txt", "a\n");
  std::string head = repository.commit("first");
  const fs::path git_dir = repository.path() / ".git";
  EXPECT_TRUE(check_connected(git_dir, {head}).ok());
  // A tree naming a blob the repository does not have, in a commit no ref reaches.
  std::string missing_blob(40, '1');
  auto tree = run_command({"git", "-C", repository.path().string(), "mktree", "--missing"},
                          CommandOptions{{}, std::nullopt, {}, "100644 blob " + missing_blob + "\tb.txt\n"});
  ASSERT_TRUE(tree.ok() && tree->exit_code == 0) << (tree.ok() ? tree->err : tree.error().message);
  std::string broken(trim(git_in(repository.path(), {"-c", "user.name=T", "-c", "user.email=t@slipway.invalid",
                                                     "commit-tree", std::string(trim(tree->out)), "-p", head, "-m", "x"})));
  Status checked = check_connected(git_dir, {broken});
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find(missing_blob), std::string::npos) << checked.error().message;
}

}  // namespace
}  // namespace slipway
