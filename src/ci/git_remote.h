// GitRemote: how the server's git reaches one remote repository — the environment its git
// commands run with, and what a failure means in words.
//
// Credentials are the server's alone (spec/server_config.h RepositoryAuth): a token travels as
// an HTTP header that git reads from GIT_CONFIG_* variables in its environment (never argv,
// where `ps` shows it, nor a URL or a file in a repository), scoped to the remote's origin so a
// redirect to another host gets nothing. An SSH key and its pinned known_hosts are 0600 files in
// the data directory's private folder; ssh runs with StrictHostKeyChecking=yes and no agent, no
// user or system configuration. The environment is built here, whole: a variable the server was
// started with (GIT_SSL_CAINFO, GIT_SSH_COMMAND, SSH_AUTH_SOCK, a user's ~/.gitconfig) cannot
// change which host is trusted or which key is offered. A `ca_file` is the only CA trusted for
// its remote: the system's are not read at all.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/run_command.h"
#include "spec/repository_url.h"

namespace slipway {

struct GitRemote {
  std::string repository;                 // the configured name, for messages
  RepositoryUrl url;
  std::string username;                   // https: Basic auth user; "" = the forge's convention
  std::string token;                      // https: "" = anonymous
  std::string token_secret;               // its secret's name, the only thing messages show
  std::filesystem::path ssh_key_file;     // ssh
  std::filesystem::path known_hosts_file;
  std::string ssh_key_secret, known_hosts_secret;
  std::string ca_file;                    // https: trusted instead of the system's CAs
  // An empty folder given to curl as its CA path. curl built on GnuTLS (Debian's git) reads its
  // compiled-in CA path (/etc/ssl/certs) beside GIT_SSL_CAINFO:
  // - with ca_file, that would add the system's CAs to it rather than replace them. Unset with
  //   ca_file: curl's CA path is a folder that does not exist, and every connection fails rather
  //   than trust the system's CAs;
  // - without, the system's CAs are read twice, from the bundle and again from the folder's
  //   hashed copies (update-ca-certificates writes both from the same certificates): ~35 ms of
  //   every git call. With this folder and the bundle present, the bundle alone is given. Unset,
  //   or no bundle: curl's own defaults.
  std::filesystem::path empty_ca_directory;
  // The system's CA bundle, as Debian's ca-certificates maintains it.
  std::filesystem::path system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

  // Runs `git args...` against this remote (the URL is among `args`, where the caller puts it)
  // with the environment below and a timeout. A non-zero exit becomes diagnose()'s Error.
  Result<std::string> git(const std::vector<std::string>& args, std::string_view action,
                          std::chrono::milliseconds timeout) const;

  // The whole environment for git: this process's, without what could redirect trust or
  // credentials, plus this remote's.
  std::vector<std::string> environment() const;

  // https: the value of the Authorization header the token travels in ("Basic ..."); "" when
  // anonymous. For git (through environment()) and the in-process fetch alike.
  std::string authorization() const;

  // https: which CAs are trusted, as curl takes them: a file (CAINFO) and a folder (CAPATH), each
  // empty for curl's default. See empty_ca_directory for why both are given.
  struct TlsTrust {
    std::string ca_file;
    std::string ca_directory;
  };
  TlsTrust tls_trust() const;

  // Why git failed to `action` ("fetch", "list the branches of"), in words a user can act on:
  // authentication refused (naming the secret, never its value), host key changed (the
  // fingerprint seen and the one pinned) or not pinned, repository not found, certificate not
  // trusted, network unreachable, timed out. Anything else quotes git's last line, masked.
  Error diagnose(std::string_view action, const CommandOutput& output) const;
};

// The environment for a git command on the mirror itself, reaching no remote: this process's,
// without what could change git's configuration, trust or credentials.
std::vector<std::string> local_git_environment();

// "x-access-token" (GitHub and Gitea accept it), "oauth2" for GitLab hosts: the Basic auth user
// forges expect beside a token, when `auth.username` is not given.
std::string default_token_username(std::string_view host);

}  // namespace slipway
