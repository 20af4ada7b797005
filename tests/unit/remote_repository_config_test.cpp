// Remote repositories without a network: what a `url` is (spec/repository_url.h), how the
// server configuration checks `auth:` and `ca_file:` against it (each mistake at its position),
// the environment the server's git runs with (ci/git_remote.h), and what each failure git and
// ssh print means in words. The failure texts are the ones git 2.39 and OpenSSH 9.2 print
// (recorded against tests/support/git_https_server.h and git_ssh_server.h).
#include <gtest/gtest.h>

#include <algorithm>

#include "base/crypto.h"
#include "base/files.h"
#include "ci/git_remote.h"
#include "spec/repository_url.h"
#include "spec/server_config.h"

namespace slipway {
namespace {

ParsedServerConfig parse(std::string_view text) { return parse_server_config(text, "slipway.yml"); }

std::string diagnostics(const ParsedServerConfig& parsed) {
  std::string all;
  for (const auto& d : parsed.diagnostics) all += d.to_string() + "\n";
  return all;
}

std::string repository(std::string_view fields) {
  return "repositories:\n  - { name: app, " + std::string(fields) + " }\n";
}

TEST(RepositoryUrl, ClassifiesEachForm) {
  struct Case {
    std::string url;
    RepositoryTransport transport;
    std::string host;
  };
  for (const Case& c : std::vector<Case>{{"/srv/git/app.git", RepositoryTransport::local, ""},
                                         {"file:///srv/git/app.git", RepositoryTransport::local, ""},
                                         {"./relative/app", RepositoryTransport::local, ""},
                                         {"https://github.com/acme/app.git", RepositoryTransport::https, "github.com"},
                                         {"https://127.0.0.1:8443/app.git", RepositoryTransport::https, "127.0.0.1:8443"},
                                         {"ssh://git@gitea.local:2222/acme/app.git", RepositoryTransport::ssh, "gitea.local:2222"},
                                         {"git@github.com:acme/app.git", RepositoryTransport::ssh, "github.com"}}) {
    auto parsed = parse_repository_url(c.url);
    ASSERT_TRUE(parsed.ok()) << c.url << ": " << parsed.error().message;
    EXPECT_EQ(parsed->transport, c.transport) << c.url;
    EXPECT_EQ(parsed->host, c.host) << c.url;
  }
  EXPECT_EQ(parse_repository_url("https://github.com/acme/app.git")->origin, "https://github.com/");
}

TEST(RepositoryUrl, RefusesCredentialsAndHostileHosts) {
  for (const char* url : {"https://user:ghp_secret@github.com/acme/app.git", "https://ghp_secret@github.com/acme/app.git",
                          "ssh://git:password@host/app.git"}) {
    auto parsed = parse_repository_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_NE(parsed.error().message.find("auth:"), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().message.find("secret@"), std::string::npos) << "the message repeats the credentials";
  }
  EXPECT_FALSE(parse_repository_url("-oProxyCommand=sh:app").ok());
  EXPECT_FALSE(parse_repository_url("ssh://-oProxyCommand=x/app").ok());
  EXPECT_FALSE(parse_repository_url("git://github.com/acme/app.git").ok());
  EXPECT_FALSE(parse_repository_url("https:///app.git").ok());
  EXPECT_FALSE(parse_repository_url("").ok());
}

TEST(RemoteRepositoryConfig, ReadsAuthAndCaFile) {
  auto parsed = parse("repositories:\n"
                      "  - name: web\n"
                      "    url: https://127.0.0.1:8443/web.git\n"
                      "    auth: { token: GITHUB_TOKEN, username: oauth2 }\n"
                      "    ca_file: /etc/slipway/forge-ca.pem\n"
                      "  - name: lib\n"
                      "    url: git@forge.example:acme/lib.git\n"
                      "    auth: { ssh_key: DEPLOY_KEY, known_hosts: FORGE_KNOWN_HOSTS }\n");
  ASSERT_TRUE(parsed.ok()) << diagnostics(parsed);
  const RepositoryConfig& web = parsed.config->repositories[0];
  EXPECT_EQ(web.auth.token_secret, "GITHUB_TOKEN");
  EXPECT_EQ(web.auth.username, "oauth2");
  EXPECT_EQ(web.ca_file, "/etc/slipway/forge-ca.pem");
  const RepositoryConfig& lib = parsed.config->repositories[1];
  EXPECT_EQ(lib.auth.ssh_key_secret, "DEPLOY_KEY");
  EXPECT_EQ(lib.auth.known_hosts_secret, "FORGE_KNOWN_HOSTS");
}

TEST(RemoteRepositoryConfig, PullRequestsAreTestedAsTheHeadUnlessMergeIsAsked) {
  auto parsed = parse("repositories:\n  - { name: a, url: /srv/a.git }\n"
                      "  - { name: b, url: /srv/b.git, pull_requests: { test: merge } }\n");
  ASSERT_TRUE(parsed.ok()) << diagnostics(parsed);
  EXPECT_FALSE(parsed.config->repositories[0].test_pull_requests_merged);
  EXPECT_TRUE(parsed.config->repositories[1].test_pull_requests_merged);
  EXPECT_FALSE(parse("repositories:\n  - { name: b, url: /srv/b.git, pull_requests: { test: rebase } }\n").ok());
}

// Each case's `at` is the text where the diagnostic must point, on the repository's line.
TEST(RemoteRepositoryConfig, EachMistakeIsReportedWhereItWasWritten) {
  struct Case {
    std::string fields, fragment, at;
  };
  for (const Case& c : std::vector<Case>{
           {"url: 'https://me:ghp_x@github.com/a/b.git'", "auth: { token: GITHUB_TOKEN }", "'https"},
           {"url: 'ssh://git@h/a.git'", "never trusted on first use", "'ssh"},
           {"url: 'ssh://git@h/a.git', auth: { ssh_key: K }", "known_hosts: FORGE_KNOWN_HOSTS", "{ ssh_key"},
           {"url: 'ssh://git@h/a.git', auth: { token: T, ssh_key: K, known_hosts: H }", "not `token:`", "auth:"},
           {"url: 'https://h/a.git', auth: { ssh_key: K, known_hosts: H }", "apply to ssh urls", "auth:"},
           {"url: 'http://h/a.git', auth: { token: T }", "in clear", "'http"},
           {"url: /srv/a.git, auth: { token: T }", "a path on the server", "auth:"},
           {"url: 'ssh://git@h/a.git', ca_file: /ca.pem, auth: { ssh_key: K, known_hosts: H }", "https:// urls only",
            "ca_file"},
           {"url: 'https://h/a.git', ca_file: ca.pem", "absolute path", "ca.pem"},
           {"url: 'https://h/a.git', auth: { token: 'ghp_abc-123!' }", "must name a secret", "'ghp"},
       }) {
    std::string text = repository(c.fields);
    std::string line = text.substr(text.find('\n') + 1);
    int column = static_cast<int>(line.find(c.at)) + 1;
    auto parsed = parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    bool found = std::any_of(parsed.diagnostics.begin(), parsed.diagnostics.end(), [&](const Diagnostic& d) {
      return d.message.find(c.fragment) != std::string::npos && d.line == 2 && d.column == column;
    });
    EXPECT_TRUE(found) << text << "\nwanted '" << c.fragment << "' at 2:" << column << ", got:\n" << diagnostics(parsed);
  }
}

GitRemote https_remote() {
  GitRemote remote;
  remote.repository = "web";
  remote.url = *parse_repository_url("https://127.0.0.1:8443/web.git");
  remote.token = "tok-0123456789";
  remote.token_secret = "GITHUB_TOKEN";
  remote.ca_file = "/etc/slipway/ca.pem";
  return remote;
}

std::vector<std::string> with_prefix(const std::vector<std::string>& entries, std::string_view prefix) {
  std::vector<std::string> found;
  for (const auto& entry : entries) {
    if (entry.starts_with(prefix)) found.push_back(entry);
  }
  return found;
}

TEST(GitRemote, TheTokenTravelsAsAHeaderScopedToTheRemotesOrigin) {
  ::setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt", 1);
  ::setenv("SSH_AUTH_SOCK", "/run/agent.sock", 1);
  ::setenv("GIT_CONFIG_COUNT", "1", 1);
  auto environment = https_remote().environment();
  ::unsetenv("SSH_AUTH_SOCK");
  ::unsetenv("GIT_CONFIG_COUNT");
  std::string header = "Authorization: Basic " + to_base64("x-access-token:tok-0123456789");
  auto keys = with_prefix(environment, "GIT_CONFIG_KEY_");
  auto values = with_prefix(environment, "GIT_CONFIG_VALUE_");
  auto key = std::find(keys.begin(), keys.end(), "GIT_CONFIG_KEY_3=http.https://127.0.0.1:8443/.extraHeader");
  ASSERT_NE(key, keys.end()) << "the header is scoped to the origin";
  EXPECT_EQ(values[3], "GIT_CONFIG_VALUE_3=" + header);
  // The repository's CA wins over the machine's variable; no agent; the server's git config count replaced.
  EXPECT_EQ(with_prefix(environment, "GIT_SSL_CAINFO="), std::vector<std::string>{"GIT_SSL_CAINFO=/etc/slipway/ca.pem"});
  // Not the system's CA folder either (curl on GnuTLS reads it beside the bundle): none, or one
  // that does not exist when the remote was given no empty folder.
  EXPECT_EQ(with_prefix(environment, "GIT_SSL_CAPATH="),
            std::vector<std::string>{"GIT_SSL_CAPATH=/nonexistent/slipway-no-ca-path"});
  GitRemote with_folder = https_remote();
  with_folder.empty_ca_directory = "/var/lib/slipway/empty-ca-path";
  EXPECT_EQ(with_prefix(with_folder.environment(), "GIT_SSL_CAPATH="),
            std::vector<std::string>{"GIT_SSL_CAPATH=/var/lib/slipway/empty-ca-path"});
  EXPECT_TRUE(with_prefix(environment, "SSH_AUTH_SOCK=").empty());
  EXPECT_EQ(with_prefix(environment, "GIT_CONFIG_COUNT="), std::vector<std::string>{"GIT_CONFIG_COUNT=4"});
  EXPECT_EQ(with_prefix(environment, "GIT_CONFIG_GLOBAL="), std::vector<std::string>{"GIT_CONFIG_GLOBAL=/dev/null"});
  EXPECT_EQ(with_prefix(environment, "GIT_TERMINAL_PROMPT="), std::vector<std::string>{"GIT_TERMINAL_PROMPT=0"});
}

// Without ca_file, the system's bundle alone: curl on GnuTLS would read the same CAs again from
// the folder's hashed copies. Only when the empty folder is given and the bundle is there.
TEST(GitRemote, WithoutACaFileTheSystemsBundleIsGivenAlone) {
  TemporaryDirectory folder("slipway-ca-bundle");
  const std::filesystem::path bundle = folder.path() / "ca-certificates.crt";
  ASSERT_TRUE(write_file_atomically(bundle, "not read here\n").ok());
  GitRemote remote = https_remote();
  remote.ca_file.clear();
  remote.system_ca_bundle = bundle;
  EXPECT_TRUE(with_prefix(remote.environment(), "GIT_SSL_CA").empty()) << "no folder given: curl's defaults";
  remote.empty_ca_directory = "/var/lib/slipway/empty-ca-path";
  EXPECT_EQ(with_prefix(remote.environment(), "GIT_SSL_CAINFO="), std::vector<std::string>{"GIT_SSL_CAINFO=" + bundle.string()});
  EXPECT_EQ(with_prefix(remote.environment(), "GIT_SSL_CAPATH="),
            std::vector<std::string>{"GIT_SSL_CAPATH=/var/lib/slipway/empty-ca-path"});
  remote.system_ca_bundle = folder.path() / "absent.crt";
  EXPECT_TRUE(with_prefix(remote.environment(), "GIT_SSL_CA").empty()) << "no bundle: curl's defaults";
}

TEST(GitRemote, SshPinsTheHostKeyAndOffersOnlyTheDeployKey) {
  GitRemote remote;
  remote.url = *parse_repository_url("git@forge.example:acme/lib.git");
  remote.ssh_key_file = "/data/remotes/lib/ssh_key";
  remote.known_hosts_file = "/data/remotes/lib/known_hosts";
  auto command = with_prefix(remote.environment(), "GIT_SSH_COMMAND=");
  ASSERT_EQ(command.size(), 1u);
  for (const char* option : {"-i '/data/remotes/lib/ssh_key'", "StrictHostKeyChecking=yes",
                             "UserKnownHostsFile='/data/remotes/lib/known_hosts'", "GlobalKnownHostsFile=/dev/null",
                             "IdentitiesOnly=yes", "IdentityAgent=none", "BatchMode=yes", "-F /dev/null"}) {
    EXPECT_NE(command[0].find(option), std::string::npos) << option << " in " << command[0];
  }
}

CommandOutput failed(std::string err) { return CommandOutput{128, "", std::move(err), false}; }

TEST(GitRemote, AWrongTokenNamesItsSecretAndNeverItsValue) {
  GitRemote remote = https_remote();
  std::string message =
      remote.diagnose("fetch", failed("fatal: could not read Username for 'https://127.0.0.1:8443': terminal prompts disabled\n"))
          .message;
  EXPECT_EQ(message, "authentication failed for https://127.0.0.1:8443/web.git: check secret GITHUB_TOKEN");
  remote.token.clear();
  remote.token_secret.clear();
  EXPECT_NE(remote.diagnose("fetch", failed("fatal: Authentication failed for 'https://127.0.0.1:8443/web.git/'\n"))
                .message.find("add `auth: { token: SECRET }`"),
            std::string::npos);
}

TEST(GitRemote, EachFailureIsSaidInWords) {
  GitRemote https = https_remote();
  EXPECT_NE(https.diagnose("fetch", failed("fatal: repository 'https://127.0.0.1:8443/web.git/' not found\n"))
                .message.find("repository not found at https://127.0.0.1:8443/web.git"),
            std::string::npos);
  EXPECT_NE(https.diagnose("fetch", failed("fatal: unable to access 'https://127.0.0.1:8443/web.git/': server "
                                           "certificate verification failed. CAfile: none CRLfile: none\n"))
                .message.find("not trusted: for a private CA, set `ca_file:`"),
            std::string::npos);
  EXPECT_NE(https.diagnose("fetch", failed("fatal: unable to access 'https://127.0.0.1:1/demo.git/': Failed to connect "
                                           "to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n"))
                .message.find("network unreachable"),
            std::string::npos);
  CommandOutput slow{-1, "", "", true};
  EXPECT_NE(https.diagnose("fetch", slow).message.find("timed out"), std::string::npos);
  // Something unforeseen is quoted, masked.
  std::string odd = https.diagnose("fetch", failed("fatal: odd failure near tok-0123456789\n")).message;
  EXPECT_EQ(odd.find("tok-0123456789"), std::string::npos) << odd;
  EXPECT_NE(odd.find("odd failure"), std::string::npos) << odd;
}

TEST(GitRemote, AChangedHostKeyShowsTheFingerprintSeen) {
  GitRemote ssh;
  ssh.url = *parse_repository_url("ssh://root@127.0.0.1:40447/srv/lib.git");
  ssh.known_hosts_secret = "FORGE_KNOWN_HOSTS";
  ssh.ssh_key_secret = "DEPLOY_KEY";
  std::string changed =
      ssh.diagnose("fetch", failed("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
                                   "The fingerprint for the ED25519 key sent by the remote host is\n"
                                   "SHA256:IGEvplcB5yycuOTv5URv61BaPhxsQMet570yT9ntPGw.\n"
                                   "Host key for [127.0.0.1]:40447 has changed and you have requested strict checking.\n"
                                   "Host key verification failed.\n"))
          .message;
  EXPECT_NE(changed.find("host key mismatch for 127.0.0.1:40447"), std::string::npos) << changed;
  EXPECT_NE(changed.find("SHA256:IGEvplcB5yycuOTv5URv61BaPhxsQMet570yT9ntPGw"), std::string::npos) << changed;
  EXPECT_NE(changed.find("FORGE_KNOWN_HOSTS"), std::string::npos) << changed;
  std::string unknown = ssh.diagnose("fetch", failed("No ED25519 host key is known for [127.0.0.1]:40447 and you have "
                                                     "requested strict checking.\nHost key verification failed.\n"))
                            .message;
  EXPECT_NE(unknown.find("is not pinned"), std::string::npos) << unknown;
  std::string refused = ssh.diagnose("fetch", failed("root@127.0.0.1: Permission denied (publickey).\n")).message;
  EXPECT_NE(refused.find("refused the key in secret DEPLOY_KEY"), std::string::npos) << refused;
  std::string missing = ssh.diagnose("fetch", failed("fatal: '/srv/nope.git' does not appear to be a git repository\n"
                                                     "fatal: Could not read from remote repository.\n"))
                            .message;
  EXPECT_NE(missing.find("repository not found"), std::string::npos) << missing;
}

}  // namespace
}  // namespace slipway
