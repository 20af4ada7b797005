// RepositoryUrl: what a configured repository's `url` says about where its commits come from —
// a path on the server's disk (or file://), or a forge reached over https:// or ssh:// (with
// git's scp-like `git@host:owner/name.git` as another way to write ssh). A URL is text an
// administrator pasted, often from a forge's "clone" button: one carrying credentials
// (`https://user:token@…`) is refused, because the URL is shown in the UI, the API, logs and
// process listings, while a secret named by `auth:` is not.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

enum class RepositoryTransport { local, https, http, ssh };

struct RepositoryUrl {
  RepositoryTransport transport = RepositoryTransport::local;
  std::string text;   // as configured
  std::string host;   // "github.com", "127.0.0.1:8443"; empty for local
  // For https and http: "https://host[:port]/", the prefix an HTTP header is scoped to, so that a
  // token never goes to another host a redirect names.
  std::string origin;

  bool remote() const { return transport != RepositoryTransport::local; }
  // Fetched over HTTP(S): a token header, CAs, and the in-process fetch apply.
  bool over_http() const { return transport == RepositoryTransport::https || transport == RepositoryTransport::http; }
};

// Classifies `url`. Errors (the message says what to write instead): empty, credentials in the
// URL, a scheme git would need a helper for (git://, ftp://), no host.
Result<RepositoryUrl> parse_repository_url(std::string_view url);

}  // namespace slipway
