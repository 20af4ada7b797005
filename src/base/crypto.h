// Crypto primitives Slipway needs, over libsodium (keys, HMAC, authenticated encryption) and
// OpenSSL's libcrypto (MD5 and SHA-256 digests, which use the CPU's SHA extensions). Nothing here
// allocates secrets on the heap longer than the caller's own strings do; keys are raw bytes.
//
// libcrypto is loaded at the first digest, not when `slipway` starts (base/shared_library.h):
// its SHA-256 runs at 1.7 GB/s here against ~0.4 GB/s for libsodium's portable code, which image
// layers of hundreds of MB notice, but mapping it costs a process ~1.4 MiB and ~130 page faults,
// and most processes (a `slipway run`, a server until its first authenticated request) never
// digest. Without libcrypto, SHA-256 is libsodium's — the same digest, slower — and MD5 has no
// implementation: it serves only S3 checksums, whose requests need libcurl, which cannot load
// without libcrypto either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

// Hex (lowercase) digests of a whole buffer. md5_hex is empty when MD5 has no implementation.
std::string sha256_hex(std::string_view data);
std::string md5_hex(std::string_view data);

// A streaming digest: update() as the data goes by, then hex() once.
class Digester {
 public:
  enum class Algorithm { sha256, md5 };
  // `fastest`: libcrypto's when it loads, else libsodium's. `portable`: libsodium's, always (the
  // fallback, chosen by tests to check it). libsodium has SHA-256 only.
  enum class Implementation { fastest, portable };
  explicit Digester(Algorithm algorithm = Algorithm::sha256, Implementation implementation = Implementation::fastest);
  // False for MD5 without libcrypto: update() ignores the data and raw() and hex() are empty.
  bool available() const;
  ~Digester();
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;
  void update(std::string_view data);
  std::string raw();  // the digest's bytes; ends the stream
  std::string hex();  // lowercase hex; ends the stream

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of a whole file, streamed. Error when the file can't be read (and, for MD5, when it has
// no implementation).
Result<std::string> sha256_file_hex(const std::string& path);
Result<std::string> md5_file_hex(const std::string& path, int64_t offset = 0, int64_t length = -1);

// HMAC-SHA256 with a key of any length; returns the 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

std::string to_hex(std::string_view bytes);
Result<std::string> from_hex(std::string_view hex);
std::string to_base64(std::string_view bytes);
Result<std::string> from_base64(std::string_view text);  // standard alphabet, padding optional

std::string random_bytes(size_t count);

// Authenticated encryption (XSalsa20-Poly1305, libsodium's secretbox) under a 32-byte key.
// seal() returns nonce + ciphertext; open() fails when the key is wrong or the box was altered.
inline constexpr size_t kSecretKeyBytes = 32;
Result<std::string> secretbox_seal(std::string_view key, std::string_view plaintext);  // Error: key not 32 bytes
Result<std::string> secretbox_open(std::string_view key, std::string_view sealed);

// Compares in constant time (length excepted).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace slipway
