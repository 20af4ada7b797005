// RepositoryMirrors against real forges' transports on loopback: git over HTTPS (nginx +
// git http-backend, a private CA, Basic auth) and over SSH (sshd, a deploy key limited to
// git-shell, a pinned host key). Credentials come from the secret store's server secrets, as
// in the server. Each bad-input case of the issue: a wrong token, a changed host key, a missing
// secret, a repository that is not there, a machine whose GIT_SSL_CAINFO names another bundle,
// a system store that would trust the forge when `ca_file` names another CA.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "base/files.h"
#include "ci/repository_mirrors.h"
#include "support/git_https_server.h"
#include "support/git_ssh_server.h"
#include "support/scratch_repository.h"
#include "support/server_secrets.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::GitHttpsServer;
using testing::GitSshServer;
using testing::ScratchRepository;
using testing::ServerSecrets;
using testing::make_another_ca;

class RepositoryMirrorsTest : public ::testing::Test {
 protected:
  void SetUp() override { head_ = work_.commit("first"); }

  // The work repository as a bare one under `folder`/NAME.git: what the forge serves.
  fs::path publish_to(const fs::path& folder, const std::string& name) {
    fs::path bare = folder / (name + ".git");
    EXPECT_TRUE(run_command_checked({"git", "clone", "--quiet", "--bare", work_.path().string(), bare.string()}).ok());
    return bare;
  }

  std::unique_ptr<RepositoryMirrors> open(const RepositoryConfig& repository) {
    auto mirrors = RepositoryMirrors::open(server_.data, {repository}, *server_.secrets);
    EXPECT_TRUE(mirrors.ok()) << mirrors.error().message;
    return mirrors.ok() ? std::move(*mirrors) : nullptr;
  }

  RepositoryConfig https_repository(const GitHttpsServer& forge) {
    RepositoryConfig repository{.name = "web", .url = forge.url("web")};
    repository.auth.token_secret = "GITHUB_TOKEN";
    repository.ca_file = forge.ca_file().string();
    return repository;
  }

  RepositoryConfig ssh_repository(const GitSshServer& forge, const fs::path& bare) {
    RepositoryConfig repository{.name = "lib", .url = forge.url(bare)};
    repository.auth.ssh_key_secret = "DEPLOY_KEY";
    repository.auth.known_hosts_secret = "FORGE_KNOWN_HOSTS";
    return repository;
  }

  ServerSecrets server_;
  ScratchRepository work_;
  std::string head_;
};

TEST_F(RepositoryMirrorsTest, HttpsWithATokenFetchesIncrementallyIntoOneBareMirror) {
  GitHttpsServer forge("tok-right-0123456789");
  fs::path bare = publish_to(forge.repositories(), "web");
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", "tok-right-0123456789").ok());
  // A machine whose variable names another bundle: the repository's ca_file must win.
  ::setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt", 1);
  auto mirrors = open(https_repository(forge));
  ASSERT_TRUE(mirrors);
  ASSERT_TRUE(mirrors->mirrors("web"));
  auto first = mirrors->fetch_commit("web", "", "main");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, head_);
  EXPECT_TRUE(fs::exists(mirrors->mirror_path("web") / "HEAD"));
  EXPECT_EQ(mirrors->mirror_path("web"), server_.data.root / "mirrors" / "web.git");

  // A new commit on the forge, and a pull request's head: one fetch brings both.
  work_.write("second.txt", "2\n");
  std::string second = work_.commit("second");
  work_.git({"push", "--quiet", bare.string(), "main", "HEAD:refs/pull/7/head"});
  auto fetched = mirrors->fetch_commit("web", second, "main");
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(*fetched, second);
  auto pull_head = run_command_checked({"git", "-C", mirrors->mirror_path("web").string(), "rev-parse", "refs/pull/7/head"});
  ASSERT_TRUE(pull_head.ok()) << pull_head.error().message;
  EXPECT_EQ(std::string(trim(*pull_head)), second);
  // A commit the mirror holds needs no fetch: the forge sees no new request.
  size_t requests = forge.access_log().size();
  ASSERT_TRUE(mirrors->fetch_commit("web", head_, "main").ok());
  EXPECT_EQ(forge.access_log().size(), requests);
  // The token went as the header: the forge logged the user it authenticated.
  EXPECT_NE(forge.access_log().find(" x-access-token "), std::string::npos) << forge.access_log();
}

// The packs git's loose-objects housekeeping made of a repository's loose objects.
int housekeeping_packs(const fs::path& repository) {
  int packs = 0;
  for (const auto& entry : fs::directory_iterator(repository / "objects" / "pack")) {
    std::string name = entry.path().filename().string();
    packs += name.starts_with("loose-") && name.ends_with(".pack");
  }
  return packs;
}

TEST_F(RepositoryMirrorsTest, HousekeepingRunsAfterTheRunNotInsideTheFetch) {
  GitHttpsServer forge;
  fs::path bare = publish_to(forge.repositories(), "web");
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge.token()).ok());
  auto mirrors = open(https_repository(forge));
  ASSERT_TRUE(mirrors);
  ASSERT_TRUE(mirrors->fetch_commit("web", "", "main").ok());
  ASSERT_TRUE(mirrors->maintain("web").ok());
  // Housekeeping that is due at the first loose object (it packs them), so that each step shows.
  fs::path mirror = mirrors->mirror_path("web");
  for (const auto& [key, value] : {std::pair{"maintenance.loose-objects.enabled", "true"},
                                   std::pair{"maintenance.loose-objects.auto", "1"}}) {
    ASSERT_TRUE(run_command_checked({"git", "-C", mirror.string(), "config", key, value}).ok());
  }
  work_.write("second.txt", "2\n");
  std::string second = work_.commit("second");
  work_.git({"push", "--quiet", bare.string(), "main"});
  ASSERT_TRUE(mirrors->fetch_commit("web", second, "main").ok());
  EXPECT_EQ(housekeeping_packs(mirror), 0) << "the fetch itself did no housekeeping";
  ASSERT_TRUE(mirrors->maintain("web").ok());
  EXPECT_EQ(housekeeping_packs(mirror), 1) << "maintain() after the fetch packed the loose objects";
  // Without a fetch since, nothing is due: a loose object written by hand stays unpacked.
  ASSERT_TRUE(run_command_checked({"sh", "-c", "echo extra | git -C '" + mirror.string() + "' hash-object -w --stdin"}).ok());
  ASSERT_TRUE(mirrors->maintain("web").ok());
  EXPECT_EQ(housekeeping_packs(mirror), 1);
}

// The longest delta chain in `repository`'s packs (`git verify-pack -v`), 0 when none.
int longest_delta_chain(const fs::path& repository) {
  int longest = 0;
  for (const auto& entry : fs::directory_iterator(repository / "objects" / "pack")) {
    if (entry.path().extension() != ".idx") continue;
    auto listing = run_command_checked({"git", "verify-pack", "-v", entry.path().string()});
    EXPECT_TRUE(listing.ok()) << listing.error().message;
    if (!listing) continue;
    std::string_view rest = *listing;
    for (size_t at = rest.find("chain length = "); at != std::string_view::npos; at = rest.find("chain length = ", at + 1)) {
      longest = std::max(longest, std::atoi(rest.substr(at + 15, 8).data()));
    }
  }
  return longest;
}

// A forge packs for itself, with delta chains up to 50 long; the mirror is repacked once after
// its first fetch with chains of at most 10, and git's housekeeping keeps to that (pack.depth).
TEST_F(RepositoryMirrorsTest, AMirrorIsRepackedOnceWithShortDeltaChains) {
  GitHttpsServer forge;
  // Forty versions of one file, each a few lines away from the one before: git's deltas chain.
  std::string text;
  for (int line = 1; line <= 400; ++line) text += std::to_string(line) + "\n";
  for (int version = 1; version <= 40; ++version) {
    size_t at = 0;
    for (int line = 1; line < version * 9; ++line) at = text.find('\n', at) + 1;
    text.replace(at, text.find('\n', at) - at, "changed in version " + std::to_string(version));
    work_.write("big.txt", text);
    work_.commit("version " + std::to_string(version));
  }
  fs::path bare = publish_to(forge.repositories(), "web");
  ASSERT_TRUE(run_command_checked({"git", "-C", bare.string(), "repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50"}).ok());
  ASSERT_GT(longest_delta_chain(bare), 10) << "the forge's packing has no long chain to cut";
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge.token()).ok());
  auto mirrors = open(https_repository(forge));
  ASSERT_TRUE(mirrors);
  ASSERT_TRUE(mirrors->fetch_commit("web", "", "main").ok());
  fs::path mirror = mirrors->mirror_path("web");
  EXPECT_LE(longest_delta_chain(mirror), 10);
  EXPECT_GT(longest_delta_chain(mirror), 0) << "the repack kept deltas";
  auto depth = run_command_checked({"git", "-C", mirror.string(), "config", "pack.depth"});
  ASSERT_TRUE(depth.ok()) << depth.error().message;
  EXPECT_EQ(std::string(trim(*depth)), "10");
  // Once: a later fetch leaves the pack as it is (a repack would replace it by a new one).
  auto pack_names = [&mirror] {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(mirror / "objects" / "pack")) {
      if (entry.path().extension() == ".pack") names.insert(entry.path().filename().string());
    }
    return names;
  };
  const std::set<std::string> repacked = pack_names();
  ASSERT_EQ(repacked.size(), 1u);
  work_.write("second.txt", "2\n");
  std::string second = work_.commit("second");
  work_.git({"push", "--quiet", bare.string(), "main"});
  ASSERT_TRUE(mirrors->fetch_commit("web", second, "main").ok());
  EXPECT_EQ(pack_names(), repacked);
}

TEST_F(RepositoryMirrorsTest, AWrongTokenFailsNamingTheSecretAndNeverItsValue) {
  GitHttpsServer forge("tok-right-0123456789");
  publish_to(forge.repositories(), "web");
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", "tok-wrong-9876543210").ok());
  auto mirrors = open(https_repository(forge));
  ASSERT_TRUE(mirrors);
  auto fetched = mirrors->fetch_commit("web", "", "main");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().message,
            "authentication failed for " + forge.url("web") + ": check secret GITHUB_TOKEN");
  auto checked = mirrors->check("web");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message, fetched.error().message);
}

TEST_F(RepositoryMirrorsTest, WithoutTheCaFileTheCertificateIsNotTrusted) {
  GitHttpsServer forge;
  publish_to(forge.repositories(), "web");
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge.token()).ok());
  RepositoryConfig repository = https_repository(forge);
  repository.ca_file.clear();
  auto mirrors = open(repository);
  ASSERT_TRUE(mirrors);
  auto checked = mirrors->check("web");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("is not trusted: for a private CA, set `ca_file:`"), std::string::npos)
      << checked.error().message;
}

// What check() says in a mount namespace where /etc/ssl/certs (curl's compiled-in bundle and
// folder) holds `bundle_ca` as the bundle and `folder_ca` as the folder's one certificate (with
// its hash link): "" when it passed. A child process, so the test's own mounts stay as they were.
std::string check_with_system_store(RepositoryMirrors& mirrors, const fs::path& bundle_ca, const fs::path& folder_ca) {
  TemporaryDirectory store("slipway-system-store");
  EXPECT_TRUE(fs::copy_file(bundle_ca, store.path() / "ca-certificates.crt"));
  EXPECT_TRUE(fs::copy_file(folder_ca, store.path() / "forge-ca.pem"));
  EXPECT_TRUE(run_command_checked({"openssl", "rehash", store.path().string()}).ok());
  int answer[2];
  EXPECT_EQ(::pipe(answer), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(answer[0]);
    std::string said = "cannot make the mount namespace";
    if (::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        ::mount(store.path().c_str(), "/etc/ssl/certs", nullptr, MS_BIND, nullptr) == 0) {
      Status checked = mirrors.check("web");
      said = checked ? "" : checked.error().message;
    }
    [[maybe_unused]] ssize_t written = ::write(answer[1], said.data(), said.size());
    ::_exit(0);
  }
  ::close(answer[1]);
  std::string said;
  char buffer[4096];
  for (ssize_t n; (n = ::read(answer[0], buffer, sizeof buffer)) > 0;) said.append(buffer, n);
  ::close(answer[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return said;
}

TEST_F(RepositoryMirrorsTest, ACaFileIsTheOnlyCaTrustedAndWithoutOneTheSystemsBundle) {
  GitHttpsServer forge;
  publish_to(forge.repositories(), "web");
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge.token()).ok());
  // Another CA, which did not sign the forge's certificate.
  TemporaryDirectory other("slipway-other-ca");
  const fs::path other_ca = make_another_ca(other.path());
  ASSERT_FALSE(other_ca.empty());

  // The control: with the forge's CA in the system's store, a repository without ca_file trusts it.
  RepositoryConfig plain = https_repository(forge);
  plain.ca_file.clear();
  auto trusting = open(plain);
  ASSERT_TRUE(trusting);
  EXPECT_EQ(check_with_system_store(*trusting, forge.ca_file(), forge.ca_file()), "");
  // Without ca_file it is the system's bundle that is trusted, not also the folder's hashed
  // copies beside it (read twice, they cost ~35 ms of each git call): a CA in the folder alone,
  // which update-ca-certificates never leaves, is not trusted; one in the bundle alone is.
  std::string folder_only = check_with_system_store(*trusting, other_ca, forge.ca_file());
  EXPECT_NE(folder_only.find("is not trusted"), std::string::npos) << folder_only;
  EXPECT_EQ(check_with_system_store(*trusting, forge.ca_file(), other_ca), "");

  // With ca_file naming another CA, the system's store does not count.
  RepositoryConfig pinned = https_repository(forge);
  pinned.ca_file = other_ca.string();
  auto mirrors = open(pinned);
  ASSERT_TRUE(mirrors);
  std::string said = check_with_system_store(*mirrors, forge.ca_file(), forge.ca_file());
  EXPECT_NE(said.find("is not trusted"), std::string::npos) << said;
  // And with the forge's own CA as ca_file, it passes there too.
  auto right = open(https_repository(forge));
  ASSERT_TRUE(right);
  EXPECT_EQ(check_with_system_store(*right, forge.ca_file(), forge.ca_file()), "");
}

TEST_F(RepositoryMirrorsTest, ARepositoryTheForgeDoesNotHaveIsSaidSo) {
  GitHttpsServer forge;
  ASSERT_TRUE(server_.secrets->set_server("GITHUB_TOKEN", forge.token()).ok());
  auto mirrors = open(https_repository(forge));
  ASSERT_TRUE(mirrors);
  auto fetched = mirrors->fetch_commit("web", "", "main");
  ASSERT_FALSE(fetched.ok());
  EXPECT_NE(fetched.error().message.find("repository not found at " + forge.url("web")), std::string::npos)
      << fetched.error().message;
}

TEST_F(RepositoryMirrorsTest, AMissingSecretRefusesToOpenNamingIt) {
  GitHttpsServer forge;
  auto mirrors = RepositoryMirrors::open(server_.data, {https_repository(forge)}, *server_.secrets);
  ASSERT_FALSE(mirrors.ok());
  EXPECT_NE(mirrors.error().message.find("server secret GITHUB_TOKEN is not set"), std::string::npos)
      << mirrors.error().message;
  EXPECT_NE(mirrors.error().message.find("slipway secret set --server-only GITHUB_TOKEN"), std::string::npos);
}

TEST_F(RepositoryMirrorsTest, SshWithADeployKeyAndAPinnedHostKey) {
  GitSshServer forge;
  fs::path bare = publish_to(forge.repositories(), "lib");
  ASSERT_TRUE(server_.secrets->set_server("DEPLOY_KEY", forge.private_key()).ok());
  ASSERT_TRUE(server_.secrets->set_server("FORGE_KNOWN_HOSTS", forge.known_hosts_line()).ok());
  ::setenv("GIT_SSH_COMMAND", "ssh -o StrictHostKeyChecking=no", 1);  // the machine's: must not apply
  auto mirrors = open(ssh_repository(forge, bare));
  ::unsetenv("GIT_SSH_COMMAND");
  ASSERT_TRUE(mirrors);
  auto fetched = mirrors->fetch_commit("lib", "", "main");
  ASSERT_TRUE(fetched.ok()) << fetched.error().message << "\n" << forge.log();
  EXPECT_EQ(*fetched, head_);
  // The key is a file only the server can read.
  struct stat key {};
  ASSERT_EQ(::stat((server_.data.root / "remotes" / "lib" / "ssh_key").c_str(), &key), 0);
  EXPECT_EQ(key.st_mode & 0777, 0600u);
}

TEST_F(RepositoryMirrorsTest, AChangedHostKeyIsRefusedWithBothFingerprints) {
  GitSshServer forge;
  fs::path bare = publish_to(forge.repositories(), "lib");
  ASSERT_TRUE(server_.secrets->set_server("DEPLOY_KEY", forge.private_key()).ok());
  ASSERT_TRUE(server_.secrets->set_server("FORGE_KNOWN_HOSTS", forge.known_hosts_line_with_another_key()).ok());
  auto mirrors = open(ssh_repository(forge, bare));
  ASSERT_TRUE(mirrors);
  auto fetched = mirrors->fetch_commit("lib", "", "main");
  ASSERT_FALSE(fetched.ok());
  const std::string& message = fetched.error().message;
  EXPECT_NE(message.find("host key mismatch for 127.0.0.1:" + std::to_string(forge.port())), std::string::npos) << message;
  EXPECT_NE(message.find("offered " + forge.host_fingerprint()), std::string::npos) << message;
  EXPECT_NE(message.find("secret FORGE_KNOWN_HOSTS pins SHA256:"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(server_.data.root / "mirrors" / "lib.git" / "refs" / "heads" / "main"));
}

}  // namespace
}  // namespace slipway
