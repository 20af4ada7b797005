// The git server fixtures against the real git CLI: GitHttpsServer (nginx + git http-backend,
// Basic auth, a test CA) and GitSshServer (sshd + git-shell, a deploy key, a known host key).
// git runs with an environment of only what each test gives it, since this machine's own
// (GIT_SSL_CAINFO pointing at the system bundle, ~/.gitconfig) would change what it does.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "base/run_command.h"
#include "support/git_https_server.h"
#include "support/git_ssh_server.h"
#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

using testing::GitHttpsServer;
using testing::GitSshServer;
using testing::ScratchRepository;

// `git ARGS...` with only `variables` ("NAME=value") and a bare minimum as its environment.
CommandOutput git(const std::vector<std::string>& variables, std::vector<std::string> arguments) {
  TemporaryDirectory home("slipway-git-home");
  CommandOptions options;
  options.environment = {"PATH=/usr/bin:/bin", "HOME=" + home.path().string(), "GIT_CONFIG_NOSYSTEM=1",
                         "GIT_TERMINAL_PROMPT=0"};
  options.environment->insert(options.environment->end(), variables.begin(), variables.end());
  options.timeout = std::chrono::seconds(60);
  arguments.insert(arguments.begin(), "git");
  auto output = run_command(arguments, options);
  EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
  EXPECT_FALSE(output.ok() && output->timed_out) << "git took over 60 s";
  return output.ok() ? *output : CommandOutput{};
}

// repositories/NAME.git, bare, with one commit on main; returns the commit's id.
std::string make_bare_repository(const std::filesystem::path& repositories, const std::string& name) {
  ScratchRepository scratch;
  scratch.write("README", "hello\n");
  std::string commit = scratch.commit();
  auto cloned = run_command_checked({"git", "clone", "--quiet", "--bare", scratch.path().string(),
                                     (repositories / (name + ".git")).string()});
  EXPECT_TRUE(cloned.ok()) << (cloned.ok() ? "" : cloned.error().message);
  return commit;
}

std::filesystem::path write_private_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

TEST(GitHttpsServer, LsRemoteWithTheRightTokenListsTheCommit) {
  GitHttpsServer server("right-token");
  std::string commit = make_bare_repository(server.repositories(), "demo");
  auto listed = git({"GIT_SSL_CAINFO=" + server.ca_file().string()},
                    {"-c", "http.extraHeader=" + server.authorization_header(), "ls-remote", server.url("demo")});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(commit + "\trefs/heads/main"), std::string::npos) << listed.out;
  EXPECT_NE(server.access_log().find("x-access-token"), std::string::npos) << server.access_log();
}

TEST(GitHttpsServer, AWrongTokenIsAnswered401) {
  GitHttpsServer server("right-token");
  make_bare_repository(server.repositories(), "demo");
  std::string ca = "GIT_SSL_CAINFO=" + server.ca_file().string();
  std::string wrong = "Authorization: Basic " + to_base64("x-access-token:wrong-token");
  auto refused = git({ca}, {"-c", "http.extraHeader=" + wrong, "ls-remote", server.url("demo")});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(server.access_log().find("\" 401 "), std::string::npos) << server.access_log();
  // A refused extra header leaves git asking for a username, which GIT_TERMINAL_PROMPT=0 forbids.
  EXPECT_NE(refused.err.find("could not read Username"), std::string::npos) << refused.err;
  // The same token from a credential helper: git's "Authentication failed".
  auto helper = git({ca}, {"-c", "credential.helper=!f() { echo username=x-access-token; echo password=wrong-token; }; f",
                           "ls-remote", server.url("demo")});
  EXPECT_NE(helper.exit_code, 0);
  EXPECT_NE(helper.err.find("Authentication failed"), std::string::npos) << helper.err;
}

TEST(GitHttpsServer, NothingIsLeftRunningOnceDestroyed) {
  int port = 0;
  std::string folder;
  {
    GitHttpsServer server;
    port = server.port();
    folder = server.repositories().parent_path().string();
    EXPECT_TRUE(testing::process_with_marker_running(folder));
  }
  EXPECT_FALSE(testing::host_can_connect(port));
  EXPECT_FALSE(testing::process_with_marker_running(folder));
  EXPECT_FALSE(std::filesystem::exists(folder));
}

TEST(GitSshServer, LsRemoteWithTheDeployKeyAndKnownHostsListsTheCommit) {
  GitSshServer server;
  std::string commit = make_bare_repository(server.repositories(), "demo");
  TemporaryDirectory client("slipway-ssh-client");
  auto key = write_private_file(client.path() / "key", server.private_key());
  auto known_hosts = write_private_file(client.path() / "known_hosts", server.known_hosts_line() + "\n");
  std::string ssh = "ssh -i " + key.string() + " -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" +
                    known_hosts.string() + " -o BatchMode=yes -F /dev/null";
  auto listed = git({"GIT_SSH_COMMAND=" + ssh}, {"ls-remote", server.url("demo.git")});
  EXPECT_EQ(listed.exit_code, 0) << listed.err << server.log();
  EXPECT_NE(listed.out.find(commit + "\trefs/heads/main"), std::string::npos) << listed.out;
}

TEST(GitSshServer, AChangedHostKeyIsRefusedNamingTheServersFingerprint) {
  GitSshServer server;
  make_bare_repository(server.repositories(), "demo");
  TemporaryDirectory client("slipway-ssh-client");
  auto known_hosts = write_private_file(client.path() / "known_hosts", server.known_hosts_line_with_another_key() + "\n");
  auto refused = git({"GIT_SSH_COMMAND=" + server.ssh_command(known_hosts)}, {"ls-remote", server.url("demo.git")});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("REMOTE HOST IDENTIFICATION HAS CHANGED"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(server.host_fingerprint()), std::string::npos) << refused.err;
}

TEST(GitSshServer, NothingIsLeftRunningOnceDestroyed) {
  int port = 0;
  std::string folder;
  {
    GitSshServer server;
    port = server.port();
    folder = server.repositories().parent_path().string();
    EXPECT_TRUE(testing::process_with_marker_running(folder));
  }
  EXPECT_FALSE(testing::host_can_connect(port));
  EXPECT_FALSE(testing::process_with_marker_running(folder));
  EXPECT_FALSE(std::filesystem::exists(folder));
}

}  // namespace
}  // namespace slipway
