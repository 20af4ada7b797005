#include "server/webhook_signature.h"

#include <array>

#include <sodium.h>

namespace slipway {
namespace {

using Digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

Digest hmac_sha256(std::string_view secret, std::string_view body) {
  // The streaming API accepts a key of any length (GitHub secrets are arbitrary text), where
  // crypto_auth_hmacsha256() itself wants exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  Digest digest{};
  crypto_auth_hmacsha256_final(&state, digest.data());
  sodium_memzero(&state, sizeof state);
  return digest;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
  Digest digest = hmac_sha256(secret, body);
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();  // sodium_bin2hex writes a terminating NUL
  return hex;
}

bool signature_matches(std::string_view secret, std::string_view body, std::string_view header) {
  constexpr std::string_view prefix = "sha256=";
  if (secret.empty() || header.size() != prefix.size() + 2 * crypto_auth_hmacsha256_BYTES ||
      header.substr(0, prefix.size()) != prefix) {
    return false;
  }
  Digest claimed{};
  std::string_view hex = header.substr(prefix.size());
  size_t decoded = 0;
  // No ignored characters, and every hex digit must be consumed: anything else is not a signature.
  if (sodium_hex2bin(claimed.data(), claimed.size(), hex.data(), hex.size(), nullptr, &decoded, nullptr) != 0 ||
      decoded != claimed.size()) {
    return false;
  }
  if (sodium_init() < 0) return false;  // idempotent; without it libsodium may not be ready
  Digest expected = hmac_sha256(secret, body);
  return sodium_memcmp(claimed.data(), expected.data(), expected.size()) == 0;
}

}  // namespace slipway
