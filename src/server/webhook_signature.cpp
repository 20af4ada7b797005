#include "server/webhook_signature.h"

#include <sodium.h>

#include "base/crypto.h"

namespace slipway {

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) { return to_hex(hmac_sha256(secret, body)); }

bool signature_matches(std::string_view secret, std::string_view body, std::string_view header) {
  constexpr std::string_view prefix = "sha256=";
  constexpr size_t kDigestBytes = crypto_auth_hmacsha256_BYTES;
  if (secret.empty() || header.size() != prefix.size() + 2 * kDigestBytes || header.substr(0, prefix.size()) != prefix) {
    return false;
  }
  // Every hex digit must decode: anything else is not a signature.
  auto claimed = from_hex(header.substr(prefix.size()));
  if (!claimed || claimed->size() != kDigestBytes) return false;
  if (sodium_init() < 0) return false;  // idempotent; without it libsodium may not be ready
  std::string expected = hmac_sha256(secret, body);  // base/crypto.h: any key length
  return sodium_memcmp(claimed->data(), expected.data(), kDigestBytes) == 0;  // constant time
}

}  // namespace slipway
