#include "server/auth.h"

#include <sodium.h>

#include <fmt/core.h>

#include "base/strings.h"
#include "base/time.h"
#include "store/api_tokens.h"

namespace slipway {

namespace {

// last_used_ms is a hint for humans, not an audit log: writing it on every request would turn
// each read into a write, so it is refreshed at most once a minute per token.
constexpr int64_t kTouchIntervalMs = 60'000;

std::string to_hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

}  // namespace

std::string generate_api_token() {
  if (sodium_init() < 0) std::abort();  // no usable randomness: refusing beats weak tokens
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return to_hex(bytes, sizeof bytes);
}

std::string hash_api_token(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return to_hex(digest, sizeof digest);
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::read_only, Role::deployer, Role::admin}) {
    if (role_name(role) == name) return role;
  }
  return std::nullopt;
}

Result<std::string> issue_api_token(Store& store, const std::string& name, Role role) {
  std::string token = generate_api_token();
  auto created = create_api_token(store, ApiTokenRecord{0, name, std::string(role_name(role)), hash_api_token(token)});
  if (!created) return created.error();
  return token;
}

Status check_admin_token(std::string_view token) {
  if (token.size() >= kMinAdminTokenLength) return {};
  return make_error(fmt::format("${} is {} characters long: an admin token needs at least {} (make one with "
                                "`head -c 32 /dev/urandom | base64`, or leave the variable unset and the server "
                                "generates one at its first start)", kAdminTokenVariable, token.size(),
                                kMinAdminTokenLength));
}

Result<std::string> Auth::ensure_admin_token(const std::string& environment_token) {
  if (!environment_token.empty()) {
    if (Status strong = check_admin_token(environment_token); !strong) return strong.error();
  }
  auto store = stores_.acquire();
  if (!store) return store.error();
  if (!environment_token.empty()) {
    std::string hash = hash_api_token(environment_token);
    auto existing = find_api_token_by_hash(**store, hash);
    if (!existing) return existing.error();
    if (*existing && (*existing)->role != "admin") {
      return make_error("$SLIPWAY_ADMIN_TOKEN is already stored as a '" + (*existing)->role +
                        "' token; choose another value for it");
    }
    if (*existing) return std::string();
    auto created = create_api_token(**store, ApiTokenRecord{0, "admin ($SLIPWAY_ADMIN_TOKEN)", "admin", hash});
    if (!created) return created.error();
    return std::string();
  }
  auto admins = count_api_tokens_with_role(**store, "admin");
  if (!admins) return admins.error();
  if (*admins > 0) return std::string();
  return issue_api_token(**store, "admin", Role::admin);
}

Result<Identity> Auth::identify(std::string_view authorization) {
  authorization = trim(authorization);
  if (authorization.empty()) return Identity{};
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || !starts_with(authorization, kScheme)) {
    return make_error("the Authorization header must be `Bearer TOKEN`");
  }
  std::string hash = hash_api_token(trim(authorization.substr(kScheme.size())));
  auto store = stores_.acquire();
  if (!store) return store.error();
  auto token = find_api_token_by_hash(**store, hash);
  if (!token) return token.error();
  if (!*token) return make_error("unknown or revoked API token: check $SLIPWAY_TOKEN, or create one with "
                                 "`slipway token create NAME --role ROLE`");
  auto role = parse_role((*token)->role);
  if (!role) return make_error("the token's stored role '" + (*token)->role + "' is not one Slipway knows");
  int64_t now = now_ms();
  if (now - (*token)->last_used_ms > kTouchIntervalMs) (void)touch_api_token(**store, (*token)->id, now);
  return Identity{*role, (*token)->name};
}

}  // namespace slipway
