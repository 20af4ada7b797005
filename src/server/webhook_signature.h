// The HMAC that git hosts sign webhook bodies with: `X-Hub-Signature-256: sha256=HEX`, the
// HMAC-SHA256 of the raw body under the repository's webhook secret (GitHub, Gitea, Forgejo).
#pragma once

#include <string>
#include <string_view>

namespace slipway {

// Lower-case hex of HMAC-SHA256(body) keyed with `secret` (any length).
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);

// True when `header` is "sha256=" followed by the body's HMAC in hex (either case). Compared in
// constant time, so the answer's timing does not reveal how much of a forged signature matched.
// An empty secret never matches: an unset secret must not make every signature valid.
bool signature_matches(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace slipway
