#include "spec/repository_url.h"

#include <fmt/core.h>

namespace slipway {

namespace {

constexpr std::string_view kSchemeSeparator = "://";

// git's own rule for scp-like syntax (connect.c, url_is_local_not_ssh): a colon before the
// first slash, in something that is not a URL. "C:" style drive letters do not arise here.
bool is_scp_like(std::string_view url) {
  size_t colon = url.find(':');
  size_t slash = url.find('/');
  return colon != std::string_view::npos && colon > 0 && (slash == std::string_view::npos || colon < slash);
}

Error credentials_error(std::string_view scheme) {
  if (scheme == "ssh") {
    return make_error("the url holds a password: remove it, and name the deploy key's secret in "
                      "`auth: { ssh_key: DEPLOY_KEY, known_hosts: FORGE_KNOWN_HOSTS }`");
  }
  return make_error("the url holds credentials (user:token@): remove them, and name the token's secret in "
                    "`auth: { token: GITHUB_TOKEN }` — a url is shown in the UI, logs and process lists");
}

// "host[:port]" after "scheme://" and any "user@"; the authority's userinfo is checked by the
// caller's rules.
Result<RepositoryUrl> parse_scheme_url(std::string_view url, std::string_view scheme, std::string_view rest) {
  RepositoryUrl parsed;
  parsed.text = std::string(url);
  std::string_view authority = rest.substr(0, rest.find('/'));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    // ssh://git@host/… names the login, which is no secret; anything with a password is, and
    // https has no user that is not a credential.
    if (scheme != "ssh" || userinfo.find(':') != std::string_view::npos) return credentials_error(scheme);
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) return make_error(fmt::format("the url '{}' names no host", url));
  if (authority.front() == '-') return make_error(fmt::format("the url '{}' names a host starting with '-'", url));
  parsed.host = std::string(authority);
  if (scheme == "ssh") {
    parsed.transport = RepositoryTransport::ssh;
  } else {
    parsed.transport = scheme == "https" ? RepositoryTransport::https : RepositoryTransport::http;
    parsed.origin = fmt::format("{}://{}/", scheme, authority);
  }
  return parsed;
}

}  // namespace

Result<RepositoryUrl> parse_repository_url(std::string_view url) {
  if (url.empty()) return make_error("the url is empty");
  size_t separator = url.find(kSchemeSeparator);
  if (separator != std::string_view::npos) {
    std::string_view scheme = url.substr(0, separator);
    std::string_view rest = url.substr(separator + kSchemeSeparator.size());
    if (scheme == "file") return RepositoryUrl{RepositoryTransport::local, std::string(url), "", ""};
    if (scheme == "https" || scheme == "http" || scheme == "ssh") return parse_scheme_url(url, scheme, rest);
    return make_error(fmt::format("the url scheme '{}' is not supported: use https://, ssh:// or a path on the "
                                  "server", scheme));
  }
  if (url.front() != '/' && url.front() != '.' && is_scp_like(url)) {
    std::string_view host = url.substr(0, url.find(':'));
    size_t at = host.rfind('@');
    if (at != std::string_view::npos) host.remove_prefix(at + 1);
    if (host.empty()) return make_error(fmt::format("the url '{}' names no host", url));
    // ssh would read "-oProxyCommand=…" as an option (CVE-2017-1000117).
    if (host.front() == '-') return make_error(fmt::format("the url '{}' names a host starting with '-'", url));
    return RepositoryUrl{RepositoryTransport::ssh, std::string(url), std::string(host), ""};
  }
  return RepositoryUrl{RepositoryTransport::local, std::string(url), "", ""};
}

}  // namespace slipway
