// How Slipway authenticates to an OCI registry (the Docker Registry v2 auth scheme): read the
// 401's WWW-Authenticate challenge, answer Basic with the credentials, or fetch a Bearer token
// from the challenge's realm for the scopes a request needs and cache it until it expires.
// Parsing is pure and never throws; RegistryAuth talks to the token service through HttpClient.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/http_client.h"
#include "base/result.h"

namespace slipway {

struct AuthChallenge {
  std::string scheme;                          // lower-cased: "basic", "bearer"
  std::map<std::string, std::string> params;   // names lower-cased; values unquoted, unescaped
  std::string token68;                         // "Negotiate abc==" style, when present

  std::string param(const std::string& name) const;  // "" when absent
};

// Parses a WWW-Authenticate value (RFC 7235): one or more challenges separated by commas, each a
// scheme then name=token or name="quoted string" parameters — commas and escaped quotes inside
// quotes belong to the value. An Error names the offending position.
Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header);

// "repository:dev/hello-app:pull,push"
std::string repository_scope(std::string_view repository, std::string_view actions);

// The token service URL for a Bearer challenge: realm?service=...&scope=...&scope=...[&account=]
// (scopes from the request, plus the challenge's own scope if it names another one). Error when
// the challenge has no realm.
Result<std::string> token_request_url(const AuthChallenge& challenge, const std::vector<std::string>& scopes,
                                      std::string_view account);

struct BearerToken {
  std::string token;
  int64_t expires_at_ms = 0;
};

// The token service's JSON answer: "token" (or the OAuth2 "access_token"), "expires_in" seconds
// (default 60, as the spec says; taken as at least 10). Expiry is counted from `now_ms`, not
// from "issued_at", so a skewed clock on the token service does not matter.
Result<BearerToken> parse_token_response(std::string_view body, int64_t now_ms);

struct RegistryCredentials {
  std::string username;   // "" = anonymous
  std::string password;
};

// What a registry wants and what was obtained for it. One per RegistryClient (one thread).
class RegistryAuth {
 public:
  using ClockMs = std::function<int64_t()>;
  RegistryAuth(std::string registry, RegistryCredentials credentials, ClockMs clock = nullptr);

  // The Authorization header value to send with a request needing `scopes`, or "" when nothing
  // is known yet or the token for these scopes expired (the request's 401 then says what to do).
  std::string authorization(const std::vector<std::string>& scopes) const;

  // After a 401: learns the scheme from `www_authenticate` and, for Bearer, fetches a token for
  // `scopes` with the credentials. Errors say which registry, which user and what the token
  // service answered ("refused the credentials for user 'alice'").
  Status answer_challenge(std::string_view www_authenticate, const std::vector<std::string>& scopes, HttpClient& http);

  bool has_credentials() const { return !credentials_.username.empty(); }
  const std::string& username() const { return credentials_.username; }
  // Number of tokens fetched so far: lets tests prove the cache works.
  int tokens_fetched() const { return tokens_fetched_; }

 private:
  Status fetch_token(const AuthChallenge& challenge, const std::vector<std::string>& scopes, HttpClient& http);
  std::string basic_value() const;

  std::string registry_;
  RegistryCredentials credentials_;
  ClockMs clock_;
  std::string scheme_;                               // "", "basic" or "bearer"
  std::map<std::string, BearerToken> tokens_;        // by the request's scopes, space-joined
  int tokens_fetched_ = 0;
};

}  // namespace slipway
