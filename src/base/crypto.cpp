#include "base/crypto.h"

#include <fstream>
#include <optional>

#include <fmt/core.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "base/shared_library.h"

namespace slipway {

namespace {

// libsodium must be initialised once before its random and secretbox functions are used; the
// call is idempotent and thread-safe.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

// libcrypto's digest functions, loaded at the first digest (why: crypto.h).
struct OpenSslDigests {
  decltype(&::EVP_MD_CTX_new) md_ctx_new = nullptr;
  decltype(&::EVP_MD_CTX_free) md_ctx_free = nullptr;
  decltype(&::EVP_DigestInit_ex) digest_init = nullptr;
  decltype(&::EVP_DigestUpdate) digest_update = nullptr;
  decltype(&::EVP_DigestFinal_ex) digest_final = nullptr;
  decltype(&::EVP_sha256) sha256 = nullptr;
  decltype(&::EVP_md5) md5 = nullptr;
};

// Once per process; nullptr when libcrypto cannot be loaded, which the log says once.
const OpenSslDigests* openssl_digests() {
  static const std::optional<OpenSslDigests> loaded = []() -> std::optional<OpenSslDigests> {
    OpenSslDigests f;
    // libcrypto.so.3: the soname Debian's libssl3 provides, the ABI these headers describe.
    Status status = load_library_functions("libcrypto.so.3", "libssl3",
                                           {library_function("EVP_MD_CTX_new", f.md_ctx_new),
                                            library_function("EVP_MD_CTX_free", f.md_ctx_free),
                                            library_function("EVP_DigestInit_ex", f.digest_init),
                                            library_function("EVP_DigestUpdate", f.digest_update),
                                            library_function("EVP_DigestFinal_ex", f.digest_final),
                                            library_function("EVP_sha256", f.sha256),
                                            library_function("EVP_md5", f.md5)});
    if (status) return f;
    spdlog::warn("digests: SHA-256 falls back to libsodium's (slower) and MD5 is unavailable: {}",
                 status.error().message);
    return std::nullopt;
  }();
  return loaded ? &*loaded : nullptr;
}

Result<std::string> digest_file(const std::string& path, Digester::Algorithm algorithm, int64_t offset,
                                int64_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("cannot read {}", path));
  in.seekg(offset);
  Digester digester(algorithm);
  if (!digester.available()) {
    return make_error(fmt::format("cannot compute the MD5 of {}: OpenSSL's libcrypto.so.3 cannot be loaded; install "
                                  "the libssl3 package",
                                  path));
  }
  std::string buffer(1 << 20, '\0');
  int64_t remaining = length < 0 ? INT64_MAX : length;
  while (remaining > 0 && in) {
    auto wanted = static_cast<std::streamsize>(std::min<int64_t>(remaining, static_cast<int64_t>(buffer.size())));
    in.read(buffer.data(), wanted);
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    digester.update(std::string_view(buffer.data(), static_cast<size_t>(got)));
    remaining -= got;
  }
  if (in.bad()) return make_error(fmt::format("error while reading {}", path));
  return digester.hex();
}

}  // namespace

// One of: libcrypto's context (`openssl` set), libsodium's SHA-256 state, or neither (MD5 without
// libcrypto: no digest).
struct Digester::State {
  const OpenSslDigests* openssl = nullptr;
  EVP_MD_CTX* context = nullptr;
  bool sodium = false;
  crypto_hash_sha256_state sodium_state{};
};

Digester::Digester(Algorithm algorithm, Implementation implementation) : state_(std::make_unique<State>()) {
  const OpenSslDigests* openssl = implementation == Implementation::fastest ? openssl_digests() : nullptr;
  if (openssl && (state_->context = openssl->md_ctx_new()) != nullptr) {
    state_->openssl = openssl;
    openssl->digest_init(state_->context, algorithm == Algorithm::md5 ? openssl->md5() : openssl->sha256(), nullptr);
  } else if (algorithm == Algorithm::sha256) {
    ensure_sodium();
    state_->sodium = true;
    crypto_hash_sha256_init(&state_->sodium_state);
  }
}

Digester::~Digester() {
  if (state_->openssl) state_->openssl->md_ctx_free(state_->context);
}

bool Digester::available() const { return state_->openssl != nullptr || state_->sodium; }

void Digester::update(std::string_view data) {
  if (state_->openssl) {
    state_->openssl->digest_update(state_->context, data.data(), data.size());
  } else if (state_->sodium) {
    crypto_hash_sha256_update(&state_->sodium_state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
}

std::string Digester::raw() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (state_->openssl) {
    state_->openssl->digest_final(state_->context, digest, &size);
  } else if (state_->sodium) {
    crypto_hash_sha256_final(&state_->sodium_state, digest);
    size = crypto_hash_sha256_BYTES;
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string Digester::hex() { return to_hex(raw()); }

std::string sha256_hex(std::string_view data) {
  Digester digester(Digester::Algorithm::sha256);
  digester.update(data);
  return digester.hex();
}

std::string md5_hex(std::string_view data) {
  Digester digester(Digester::Algorithm::md5);
  digester.update(data);
  return digester.hex();
}

Result<std::string> sha256_file_hex(const std::string& path) {
  return digest_file(path, Digester::Algorithm::sha256, 0, -1);
}

Result<std::string> md5_file_hex(const std::string& path, int64_t offset, int64_t length) {
  return digest_file(path, Digester::Algorithm::md5, offset, length);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // The streaming API takes a key of any length; crypto_auth_hmacsha256() wants exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string digest(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(digest.data()));
  sodium_memzero(&state, sizeof state);
  return digest;
}

std::string to_hex(std::string_view bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  hex.pop_back();  // sodium_bin2hex writes a terminating NUL
  return hex;
}

Result<std::string> from_hex(std::string_view hex) {
  std::string bytes(hex.size() / 2, '\0');
  size_t decoded = 0;
  const char* end = nullptr;
  if (hex.size() % 2 != 0 ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(), hex.size(), nullptr,
                     &decoded, &end) != 0 ||
      decoded != bytes.size()) {
    return make_error("not a hexadecimal string");
  }
  return bytes;
}

std::string to_base64(std::string_view bytes) {
  constexpr int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant);
  text.pop_back();
  return text;
}

Result<std::string> from_base64(std::string_view text) {
  // Padding is optional in what people paste; the no-padding variant rejects '=', so strip it.
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string bytes(text.size() * 3 / 4 + 3, '\0');
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(),
                        nullptr, &decoded, &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return make_error("not a base64 string");
  }
  bytes.resize(decoded);
  return bytes;
}

std::string random_bytes(size_t count) {
  ensure_sodium();
  std::string bytes(count, '\0');
  randombytes_buf(bytes.data(), count);
  return bytes;
}

Result<std::string> secretbox_seal(std::string_view key, std::string_view plaintext) {
  ensure_sodium();
  if (key.size() != kSecretKeyBytes) return make_error("the key is not 32 bytes");
  std::string sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), out, reinterpret_cast<const unsigned char*>(key.data()));
  return sealed;
}

Result<std::string> secretbox_open(std::string_view key, std::string_view sealed) {
  ensure_sodium();
  if (key.size() != kSecretKeyBytes) return make_error("the key is not 32 bytes");
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return make_error("the box is truncated");
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plaintext(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plaintext.data()), in + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return make_error("the box does not open with this key (wrong key, or the box was altered)");
  }
  return plaintext;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace slipway
