#include "spec/environment_secrets.h"

#include <fmt/core.h>

namespace slipway {

Result<std::string> EnvironmentSecrets::require(const std::string& name, std::string_view user) const {
  if (auto found = values_.find(name); found != values_.end()) return found->second;
  // A conflict: what is asked is right, the server's secrets are not ready for it.
  return make_error(ErrorKind::conflict, fmt::format("{} needs secret {}, which is not set for {} in {}: slipway secret set {} {} {} (or '*' "
                                "for every repository)",
                                user, name, repository_, environment_, repository_, environment_, name));
}

Result<RegistryLogin> EnvironmentSecrets::registry_login(const RegistryConfig& registry) const {
  if (registry.username_secret.empty()) return RegistryLogin{};
  auto username = require(registry.username_secret, "the registry login");
  if (!username) return username.error();
  auto password = require(registry.password_secret, "the registry login");
  if (!password) return password.error();
  return RegistryLogin{*username, *password};
}

Result<BucketKeys> EnvironmentSecrets::bucket_keys(const BucketConfig& bucket) const {
  auto access_key = require(bucket.access_key_secret, "the bucket's access key");
  if (!access_key) return access_key.error();
  auto secret_key = require(bucket.secret_key_secret, "the bucket's secret key");
  if (!secret_key) return secret_key.error();
  return BucketKeys{*access_key, *secret_key};
}

}  // namespace slipway
