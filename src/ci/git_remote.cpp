#include "ci/git_remote.h"

#include <fmt/core.h>

#include <regex>

#include "base/crypto.h"
#include "base/process_environment.h"
#include "base/secret_masker.h"
#include "base/strings.h"

namespace slipway {

namespace {

// Variables of the server's environment that must not reach a remote's git: each could
// change which certificate authority, key, helper or configuration is used.
bool is_overridden(std::string_view entry) {
  static const std::vector<std::string_view> kPrefixes = {
      "GIT_", "SSH_AUTH_SOCK=", "SSH_ASKPASS", "CURL_CA_BUNDLE=", "SSL_CERT_FILE=", "SSL_CERT_DIR=",
      "HTTPS_PROXY=", "https_proxy=", "HTTP_PROXY=", "http_proxy=", "ALL_PROXY=", "all_proxy="};
  for (std::string_view prefix : kPrefixes) {
    if (entry.starts_with(prefix)) return true;
  }
  return false;
}

// ssh's configuration, as one GIT_SSH_COMMAND (git runs it through sh): paths are quoted.
std::string ssh_command(const GitRemote& remote) {
  auto quoted = [](const std::filesystem::path& path) { return "'" + path.string() + "'"; };
  return fmt::format("ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes "
                     "-o StrictHostKeyChecking=yes -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null "
                     "-o UpdateHostKeys=no -o ConnectTimeout=20 -o ServerAliveInterval=15",
                     quoted(remote.ssh_key_file), quoted(remote.known_hosts_file));
}

// The fingerprints of the pinned keys (`ssh-keygen -lf`), "" when they cannot be read.
std::string pinned_fingerprints(const std::filesystem::path& known_hosts) {
  auto listed = run_command({"ssh-keygen", "-lf", known_hosts.string()});
  if (!listed || listed->exit_code != 0) return "";
  std::vector<std::string> fingerprints;
  static const std::regex kFingerprint("SHA256:[A-Za-z0-9+/=]+");
  for (auto match = std::sregex_iterator(listed->out.begin(), listed->out.end(), kFingerprint);
       match != std::sregex_iterator(); ++match) {
    fingerprints.push_back(match->str());
  }
  return join(fingerprints, ", ");
}

std::string seen_fingerprint(const std::string& stderr_text) {
  static const std::regex kFingerprint("SHA256:[A-Za-z0-9+/=]+");
  std::smatch match;
  return std::regex_search(stderr_text, match, kFingerprint) ? match.str() : "";
}

bool mentions(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles) {
    if (text.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::string default_token_username(std::string_view host) {
  return host == "gitlab.com" || host.starts_with("gitlab.") ? "oauth2" : "x-access-token";
}

std::vector<std::string> local_git_environment() {
  std::vector<std::string> entries;
  for (std::string& entry : helper_environment()) {
    if (!is_overridden(entry)) entries.push_back(std::move(entry));
  }
  // No system or user configuration (credential helpers, url rewrites, proxies), no prompt.
  entries.insert(entries.end(), {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0"});
  return entries;
}

std::string GitRemote::authorization() const {
  if (token.empty()) return "";
  std::string user = username.empty() ? default_token_username(url.host) : username;
  return "Basic " + to_base64(user + ":" + token);
}

GitRemote::TlsTrust GitRemote::tls_trust() const {
  // Win over http.sslCAInfo/sslCAPath and the system's bundle and folder: git reads them last.
  if (!ca_file.empty()) {
    return {ca_file, empty_ca_directory.empty() ? "/nonexistent/slipway-no-ca-path" : empty_ca_directory.string()};
  }
  if (std::error_code error; !empty_ca_directory.empty() && std::filesystem::is_regular_file(system_ca_bundle, error)) {
    return {system_ca_bundle.string(), empty_ca_directory.string()};
  }
  return {};
}

std::vector<std::string> GitRemote::environment() const {
  std::vector<std::string> entries = local_git_environment();
  std::vector<std::pair<std::string, std::string>> config = {{"credential.helper", ""},
                                                             {"http.lowSpeedLimit", "1000"},
                                                             {"http.lowSpeedTime", "60"}};
  if (url.over_http()) {
    if (!token.empty()) config.emplace_back("http." + url.origin + ".extraHeader", "Authorization: " + authorization());
    TlsTrust trust = tls_trust();
    if (!trust.ca_file.empty()) entries.push_back("GIT_SSL_CAINFO=" + trust.ca_file);
    if (!trust.ca_directory.empty()) entries.push_back("GIT_SSL_CAPATH=" + trust.ca_directory);
  } else if (url.transport == RepositoryTransport::ssh) {
    entries.push_back("GIT_SSH_COMMAND=" + ssh_command(*this));
    entries.push_back("GIT_SSH_VARIANT=ssh");
  }
  entries.push_back(fmt::format("GIT_CONFIG_COUNT={}", config.size()));
  for (size_t i = 0; i < config.size(); ++i) {
    entries.push_back(fmt::format("GIT_CONFIG_KEY_{}={}", i, config[i].first));
    entries.push_back(fmt::format("GIT_CONFIG_VALUE_{}={}", i, config[i].second));
  }
  return entries;
}

Result<std::string> GitRemote::git(const std::vector<std::string>& args, std::string_view action,
                                   std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto output = run_command(argv, CommandOptions{{}, environment(), timeout});
  if (!output) return output.error();
  if (output->exit_code != 0 || output->timed_out) return diagnose(action, *output);
  return std::move(output->out);
}

Error GitRemote::diagnose(std::string_view action, const CommandOutput& output) const {
  const std::string& err = output.err;
  const std::string& where = url.text;
  if (output.timed_out) return make_error(fmt::format("cannot {} {}: no answer in time (timed out)", action, where));
  if (mentions(err, {"REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key for"})) {
    return make_error(fmt::format("host key mismatch for {}: the server offered {}, but secret {} pins {}; if the "
                                  "forge really changed its key, update {}", url.host, seen_fingerprint(err),
                                  known_hosts_secret, pinned_fingerprints(known_hosts_file), known_hosts_secret));
  }
  if (mentions(err, {"host key is known for", "Host key verification failed"})) {
    return make_error(fmt::format("host key of {} is not pinned: add its line to secret {} (ssh-keyscan, checked "
                                  "against the forge's published fingerprints); it is never trusted on first use",
                                  url.host, known_hosts_secret));
  }
  if (mentions(err, {"Permission denied (publickey"})) {
    return make_error(fmt::format("authentication failed for {}: the forge refused the key in secret {}; check that "
                                  "it is a deploy key of this repository", where, ssh_key_secret));
  }
  if (mentions(err, {"Authentication failed", "returned error: 401", "returned error: 403", "could not read Username",
                     "could not read Password"})) {
    if (token_secret.empty()) {
      return make_error(fmt::format("authentication required for {}: add `auth: {{ token: SECRET }}` to the repository",
                                    where));
    }
    return make_error(fmt::format("authentication failed for {}: check secret {}", where, token_secret));
  }
  if (mentions(err, {"returned error: 404", "not found", "does not appear to be a git repository", "does not exist"})) {
    return make_error(fmt::format("repository not found at {}: check the url (a private repository the credentials "
                                  "cannot see looks the same)", where));
  }
  if (mentions(err, {"SSL certificate problem", "server certificate verification failed", "unable to get local issuer"})) {
    return make_error(fmt::format("the certificate of {} is not trusted: for a private CA, set `ca_file:`", url.host));
  }
  if (mentions(err, {"Could not resolve host", "Connection refused", "Network is unreachable", "Connection timed out",
                     "Failed to connect", "No route to host", "Could not resolve hostname", "Connection reset"})) {
    return make_error(fmt::format("network unreachable: cannot connect to {} ({})", url.host, last_line(err)));
  }
  std::string basic = authorization();  // "Basic " + the base64 form the forge may echo
  SecretMasker masker({token, basic.empty() ? "" : basic.substr(6)});
  return make_error(fmt::format("cannot {} {}: {}", action, where, masker.mask(last_line(err))));
}

}  // namespace slipway
