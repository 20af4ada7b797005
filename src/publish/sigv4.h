// AWS Signature Version 4, as pure functions: the same request, credentials and clock always give
// the same canonical request, string to sign and Authorization header, so each step is checked
// against the AWS SigV4 test suite. S3 differs from other services in two ways, both handled
// here: its path is signed as given (encoded once, never normalised) and it wants
// X-Amz-Content-Sha256.
#pragma once

#include <string>
#include <string_view>

#include "base/http_client.h"
#include "base/time.h"

namespace slipway {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary (STS) credentials only; "" otherwise
};

struct SigV4Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
  // Where X-Amz-Security-Token goes when there is a session token: signed (S3 and most
  // services) or added after signing (the few services that want it so).
  bool sign_session_token = true;
};

// What the signer reads of a request. `path` and `query` are the request target as it goes on
// the wire, percent-encoded or not (both are accepted); `headers` must hold Host.
struct SigV4Request {
  std::string method = "GET";
  std::string path = "/";
  std::string query;          // without the '?'
  HttpHeaders headers;
  std::string payload_hash;   // lowercase hex SHA-256 of the body, or kUnsignedPayload
};

// Each intermediate text, for tests and for debugging a SignatureDoesNotMatch.
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;  // the Authorization header's value
};

// "20150830T123600Z" (UTC), the X-Amz-Date format; its first 8 characters are the scope's date.
std::string sigv4_amz_date(Clock::time_point time);

// The canonical URI. S3: the path percent-encoded exactly once (an already-encoded path is
// decoded first), slashes kept, nothing normalised. Other services: "." and ".." segments
// resolved and repeated slashes merged, then encoded — so a wire path that was already encoded
// is encoded a second time, as those services expect.
std::string sigv4_canonical_uri(std::string_view path, bool s3);

// Parameters decoded then encoded once, sorted by name then value, "name=value" joined by '&'
// (a parameter without a value still gets its '=').
std::string sigv4_canonical_query(std::string_view query);

// Header names lowercased and sorted; values trimmed with inner runs of spaces merged; the values
// of a repeated header joined by ',' in the order they appear. Every given header is signed.
struct SigV4CanonicalHeaders {
  std::string lines;           // "name:value\n" per header
  std::string signed_headers;  // "host;x-amz-date"
};
SigV4CanonicalHeaders sigv4_canonical_headers(const HttpHeaders& headers);

std::string sigv4_canonical_request(const SigV4Request& request, bool s3);
std::string sigv4_credential_scope(std::string_view date, const SigV4Scope& scope);  // date: YYYYMMDD
std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                                 std::string_view canonical_request);
// The 32 raw bytes of HMAC("AWS4" + secret, date) → region → service → "aws4_request".
std::string sigv4_signing_key(std::string_view secret_key, std::string_view date, const SigV4Scope& scope);

// Signs `request` at `time`: sets X-Amz-Date, X-Amz-Content-Sha256 (S3 only) and
// X-Amz-Security-Token (with a session token), then Authorization. Headers added after the call
// are not covered by the signature.
SigV4Signature sigv4_sign(SigV4Request& request, const SigV4Credentials& credentials, const SigV4Scope& scope,
                          Clock::time_point time);

}  // namespace slipway
