// GitSshServer: OpenSSH's sshd on 127.0.0.1:<a free port>, in the foreground, serving the bare
// repositories of a temporary folder to one deploy key, as a git host does: the key's
// authorized_keys line is `restrict,command="git-shell -c \"$SSH_ORIGINAL_COMMAND\""`, so it
// can run git-upload-pack (clone, fetch, ls-remote) and nothing else; no password or keyboard
// login. Its own ed25519 host key (known_hosts_line(), host_fingerprint()), another key's
// known_hosts line to play a changed host key, and the deploy key's private half (private_key()).
// The user is root (PermitRootLogin forced-commands-only): needs root, and /run/sshd, which the
// constructor makes. The constructor returns once the port accepts, or throws std::runtime_error
// with sshd's log; sshd is stopped, and the folder removed, when the object goes (a session
// still open then, which sshd runs in a process of its own, ends with its connection).
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "foreground_child.h"
#include "registry_fixture.h"  // free_loopback_port

namespace slipway::testing {

class GitSshServer {
 public:
  GitSshServer() : folder_("slipway-git-ssh") {
    std::filesystem::create_directories(repositories());
    std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation directory
    make_key(file("host_key"), "slipway-test-host");
    make_key(file("deploy_key"), "slipway-deploy-key");
    std::ofstream(file("authorized_keys"))
        << R"(restrict,command="git-shell -c \"$SSH_ORIGINAL_COMMAND\"" )" << text_of("deploy_key.pub");
    host_fingerprint_ = split(run_setup_command({"ssh-keygen", "-lf", file("host_key.pub")}), ' ').at(1);
    for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) start(free_loopback_port());
    if (port_ == 0) throw std::runtime_error("sshd did not start; its log:\n" + log());
  }
  GitSshServer(const GitSshServer&) = delete;
  GitSshServer& operator=(const GitSshServer&) = delete;

  int port() const { return port_; }
  std::filesystem::path repositories() const { return folder_.path() / "repositories"; }
  // "ssh://root@127.0.0.1:PORT/ABSOLUTE/PATH"; a relative `repository` is taken in repositories().
  std::string url(const std::filesystem::path& repository) const {
    return fmt::format("ssh://root@127.0.0.1:{}{}", port_, (repositories() / repository).string());
  }
  std::string private_key() const { return text_of("deploy_key"); }
  std::filesystem::path private_key_file() const { return folder_.path() / "deploy_key"; }
  // "[127.0.0.1]:PORT ssh-ed25519 AAAA...", the line a known_hosts file needs for this server.
  std::string known_hosts_line() const { return known_hosts_line_for(folder_.path() / "host_key.pub"); }
  // The same for a freshly made key that is not the server's: a host key that "changed".
  std::string known_hosts_line_with_another_key() const {
    TemporaryDirectory other("slipway-other-host-key");
    make_key((other.path() / "key").string(), "another-host");
    return known_hosts_line_for(other.path() / "key.pub");
  }
  // "SHA256:..." as `ssh-keygen -lf` and ssh's warnings print it.
  const std::string& host_fingerprint() const { return host_fingerprint_; }
  // A GIT_SSH_COMMAND with the deploy key, strict checking against `known_hosts`, no prompts.
  std::string ssh_command(const std::filesystem::path& known_hosts) const {
    return fmt::format("ssh -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} "
                       "-o BatchMode=yes -F /dev/null",
                       private_key_file().string(), known_hosts.string());
  }
  std::string log() const { return text_of("sshd.log"); }

 private:
  std::string file(const std::string& name) const { return (folder_.path() / name).string(); }
  std::string text_of(const std::string& name) const {
    auto text = read_file(folder_.path() / name);
    return text ? *text : "";
  }
  static void make_key(const std::string& path, const std::string& comment) {
    run_setup_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path});
  }
  std::string known_hosts_line_for(const std::filesystem::path& public_key) const {
    auto text = read_file(public_key);
    auto fields = split(text ? std::string(trim(*text)) : "", ' ');
    return fmt::format("[127.0.0.1]:{} {} {}", port_, fields.at(0), fields.at(1));
  }

  void start(int port) {
    std::ofstream(file("sshd_config")) << fmt::format(R"(ListenAddress 127.0.0.1:{port}
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin forced-commands-only
AllowUsers root
AcceptEnv GIT_PROTOCOL
LogLevel VERBOSE
)",
                                                      fmt::arg("dir", folder_.path().string()), fmt::arg("port", port));
    std::filesystem::remove(file("sshd.pid"));
    sshd_.start({"/usr/sbin/sshd", "-D", "-e", "-f", file("sshd_config")}, file("sshd.log"));
    // sshd writes its pid file once it listens: until then, a listener there may be another's.
    auto ready = [&] { return std::filesystem::exists(file("sshd.pid")) && listening_on_loopback(port); };
    if (sshd_.wait_until(ready)) port_ = port;
    else sshd_.stop();
  }

  TemporaryDirectory folder_;  // first: removed after sshd stopped
  std::string host_fingerprint_;
  ForegroundChild sshd_;
  int port_ = 0;
};

}  // namespace slipway::testing
