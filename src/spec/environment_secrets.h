// EnvironmentSecrets: the one way anything — a publish step, a deployment, a task run — takes a
// credential from the secrets of one repository in one environment. A secret the configuration
// names and the store does not hold is always an error, worded one way: what needs it, which
// secret, where it is missing and the command that sets it — never a silent "go without".
//
// It reads a map already resolved by SecretStore::resolve (repository, then '*'; environment,
// then '*'), so it sits beside the configuration it reads and knows nothing of the store.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "spec/server_config.h"

namespace slipway {

struct RegistryLogin {
  std::string username;  // "" = anonymous (the configuration names no username secret)
  std::string password;
};

struct BucketKeys {
  std::string access_key;
  std::string secret_key;
};

class EnvironmentSecrets {
 public:
  // `values` must outlive this object.
  EnvironmentSecrets(const std::map<std::string, std::string>& values, std::string repository, std::string environment)
      : values_(values), repository_(std::move(repository)), environment_(std::move(environment)) {}

  // The value of secret `name`, which `user` needs ("the registry password", "task export").
  // Error: "<user> needs secret <name>, which is not set for <repository> in <environment>:
  // slipway secret set <repository> <environment> <name> (or '*' for every repository)".
  Result<std::string> require(const std::string& name, std::string_view user) const;

  // The environment's registry login: anonymous when the configuration names no username.
  Result<RegistryLogin> registry_login(const RegistryConfig& registry) const;

  // The environment's bucket keys; both are required.
  Result<BucketKeys> bucket_keys(const BucketConfig& bucket) const;

  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  const std::map<std::string, std::string>& values_;
  std::string repository_;
  std::string environment_;
};

}  // namespace slipway
