// The crypto primitives against published test vectors (FIPS 180-2, RFC 1321, RFC 4231), and
// secretbox's promises: round trip, a wrong key or an altered box refused.
#include "base/crypto.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(Crypto, Sha256KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, StreamingDigestEqualsWholeDigest) {
  Digester digester;
  digester.update("a");
  digester.update("bc");
  EXPECT_EQ(digester.hex(), sha256_hex("abc"));
}

// The fallback without libcrypto (crypto.h): libsodium's SHA-256, the same vectors; no MD5.
TEST(Crypto, PortableSha256GivesTheSameDigests) {
  for (std::string_view text : {"", "abc", "a much longer text, streamed in two pieces"}) {
    Digester fastest;
    Digester portable(Digester::Algorithm::sha256, Digester::Implementation::portable);
    ASSERT_TRUE(portable.available());
    fastest.update(text);
    portable.update(text.substr(0, text.size() / 2));
    portable.update(text.substr(text.size() / 2));
    EXPECT_EQ(portable.hex(), fastest.hex()) << text;
  }
  Digester abc(Digester::Algorithm::sha256, Digester::Implementation::portable);
  abc.update("abc");
  EXPECT_EQ(abc.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, PortableMd5IsUnavailableAndSaysSo) {
  Digester md5(Digester::Algorithm::md5, Digester::Implementation::portable);
  EXPECT_FALSE(md5.available());
  md5.update("message digest");
  EXPECT_EQ(md5.hex(), "");
  EXPECT_TRUE(Digester(Digester::Algorithm::md5).available());  // libcrypto loads here
}

TEST(Crypto, Md5KnownVectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HexAndBase64RoundTrip) {
  std::string bytes("\x00\xff\x10 binary", 10);
  EXPECT_EQ(*from_hex(to_hex(bytes)), bytes);
  EXPECT_EQ(*from_base64(to_base64(bytes)), bytes);
  EXPECT_EQ(to_base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*from_base64("Zm9vYg"), "foob");  // padding optional
  EXPECT_FALSE(from_hex("abc").ok());
  EXPECT_FALSE(from_hex("zz").ok());
  EXPECT_FALSE(from_base64("not base64!").ok());
}

TEST(Crypto, SecretboxRoundTripAndRefusals) {
  std::string key = random_bytes(kSecretKeyBytes);
  auto sealed = secretbox_seal(key, "hunter2");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("hunter2"), std::string::npos);
  EXPECT_EQ(*secretbox_open(key, *sealed), "hunter2");
  EXPECT_NE(*secretbox_seal(key, "hunter2"), *sealed) << "every box gets a fresh nonce";

  EXPECT_FALSE(secretbox_open(random_bytes(kSecretKeyBytes), *sealed).ok());
  std::string altered = *sealed;
  altered.back() ^= 1;
  EXPECT_FALSE(secretbox_open(key, altered).ok());
  EXPECT_FALSE(secretbox_open(key, "short").ok());
  EXPECT_FALSE(secretbox_seal("short key", "x").ok());
}

TEST(Crypto, ConstantTimeComparison) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

}  // namespace
}  // namespace slipway
