#include "publish/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/strings.h"

namespace slipway {

namespace {

// "%XX" becomes its byte; a '%' not followed by two hex digits stays as it is. '+' is left alone:
// S3 and SigV4 read it as a plus sign, not a space.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 && hex_digit_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// RFC 3986 dot-segment removal plus merged slashes, the way AWS normalises a non-S3 path:
// "//a/./b/../c//" → "/a/c/". A trailing slash survives; ".." above the root stays at the root.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> kept;
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : kept) {
    out += '/';
    out += segment;
  }
  if (kept.empty() || path.ends_with('/')) out += '/';
  return out;
}

// Runs of spaces and tabs become one space; ends trimmed.
std::string collapse_spaces(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : trim(value)) {
    bool space = c == ' ' || c == '\t';
    if (space && in_space) continue;
    out += space ? ' ' : c;
    in_space = space;
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string sigv4_amz_date(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string sigv4_canonical_uri(std::string_view path, bool s3) {
  if (path.empty()) return "/";
  if (s3) return percent_encode(percent_decode(path), /*keep_slash=*/true);
  return percent_encode(normalize_path(path), /*keep_slash=*/true);
}

std::string sigv4_canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> parameters;
  for (const std::string& item : split(query, '&')) {
    if (item.empty()) continue;
    size_t equals = item.find('=');
    std::string_view name = std::string_view(item).substr(0, equals);
    std::string_view value = equals == std::string::npos ? "" : std::string_view(item).substr(equals + 1);
    parameters.emplace_back(percent_encode(percent_decode(name)), percent_encode(percent_decode(value)));
  }
  std::sort(parameters.begin(), parameters.end());
  std::string out;
  for (const auto& [name, value] : parameters) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

SigV4CanonicalHeaders sigv4_canonical_headers(const HttpHeaders& headers) {
  std::map<std::string, std::vector<std::string>> values;  // sorted by lowercase name
  for (const auto& [name, value] : headers.items) values[lowercase(trim(name))].push_back(collapse_spaces(value));
  SigV4CanonicalHeaders canonical;
  for (const auto& [name, list] : values) {
    canonical.lines += name + ":" + join(list, ",") + "\n";
    if (!canonical.signed_headers.empty()) canonical.signed_headers += ';';
    canonical.signed_headers += name;
  }
  return canonical;
}

std::string sigv4_canonical_request(const SigV4Request& request, bool s3) {
  SigV4CanonicalHeaders headers = sigv4_canonical_headers(request.headers);
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, sigv4_canonical_uri(request.path, s3),
                     sigv4_canonical_query(request.query), headers.lines, headers.signed_headers,
                     request.payload_hash);
}

std::string sigv4_credential_scope(std::string_view date, const SigV4Scope& scope) {
  return fmt::format("{}/{}/{}/aws4_request", date, scope.region, scope.service);
}

std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                                 std::string_view canonical_request) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, credential_scope, sha256_hex(canonical_request));
}

std::string sigv4_signing_key(std::string_view secret_key, std::string_view date, const SigV4Scope& scope) {
  std::string key = hmac_sha256("AWS4" + std::string(secret_key), date);
  key = hmac_sha256(key, scope.region);
  key = hmac_sha256(key, scope.service);
  return hmac_sha256(key, "aws4_request");
}

SigV4Signature sigv4_sign(SigV4Request& request, const SigV4Credentials& credentials, const SigV4Scope& scope,
                          Clock::time_point time) {
  bool s3 = scope.service == "s3";
  std::string amz_date = sigv4_amz_date(time);
  std::string date = amz_date.substr(0, 8);
  request.headers.set("X-Amz-Date", amz_date);
  if (s3) request.headers.set("X-Amz-Content-Sha256", request.payload_hash);
  bool token = !credentials.session_token.empty();
  if (token && scope.sign_session_token) request.headers.set("X-Amz-Security-Token", credentials.session_token);

  SigV4Signature signature;
  signature.canonical_request = sigv4_canonical_request(request, s3);
  std::string credential_scope = sigv4_credential_scope(date, scope);
  signature.string_to_sign = sigv4_string_to_sign(amz_date, credential_scope, signature.canonical_request);
  std::string key = sigv4_signing_key(credentials.secret_key, date, scope);
  signature.authorization = fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                                        credentials.access_key, credential_scope,
                                        sigv4_canonical_headers(request.headers).signed_headers,
                                        to_hex(hmac_sha256(key, signature.string_to_sign)));
  if (token && !scope.sign_session_token) request.headers.set("X-Amz-Security-Token", credentials.session_token);
  request.headers.set("Authorization", signature.authorization);
  return signature;
}

}  // namespace slipway
