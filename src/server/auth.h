// API authentication: Bearer tokens with a role each (admin > deployer > read-only). A token is
// 32 random bytes as 64 hex characters, shown once when issued; the store keeps only its
// SHA-256, and every request's token is hashed and looked up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "server/http_router.h"
#include "server/store_pool.h"

namespace slipway {

inline constexpr const char* kAdminTokenVariable = "SLIPWAY_ADMIN_TOKEN";
// Shorter admin tokens are refused: one anybody can type from memory can be guessed too.
inline constexpr size_t kMinAdminTokenLength = 32;

std::string generate_api_token();                      // 64 lower-case hex characters
std::string hash_api_token(std::string_view token);    // SHA-256, lower-case hex

// "admin", "deployer", "read-only" → the Role; nullopt for anything else (anonymous included).
std::optional<Role> parse_role(std::string_view name);

// Stores a new token named `name` and returns it: the only time it can be seen.
Result<std::string> issue_api_token(Store& store, const std::string& name, Role role);

// An Error when `token` (the value of $SLIPWAY_ADMIN_TOKEN) is shorter than kMinAdminTokenLength:
// the message gives its length and how to make a good one, never the token.
Status check_admin_token(std::string_view token);

struct Identity {
  Role role = Role::anonymous;
  std::string token_name;
};

class Auth {
 public:
  explicit Auth(StorePool& stores) : stores_(stores) {}

  // At server start. With `environment_token` (from $SLIPWAY_ADMIN_TOKEN) non-empty: refuses it
  // when check_admin_token() does, else makes sure that token is an admin token, and returns "".
  // Otherwise, when no admin token exists yet,
  // issues one and returns it for printing once; later starts return "".
  Result<std::string> ensure_admin_token(const std::string& environment_token);

  // From an Authorization header value. Empty: anonymous. "Bearer <known token>": its role.
  // An Error (to answer 401) for another scheme or an unknown token.
  Result<Identity> identify(std::string_view authorization);

 private:
  StorePool& stores_;
};

}  // namespace slipway
