#include "cd/task_environment.h"

#include "cd/application_directory.h"
#include "spec/environment_secrets.h"
#include "store/secret_store.h"

namespace slipway {

Result<TaskEnvironment> resolve_task_environment(const std::filesystem::path& database, const std::string& master_key,
                                                 const ServerConfig& config, const std::string& repository,
                                                 const std::string& environment) {
  auto store = Store::open(database);
  if (!store) return store.error();
  auto values = SecretStore(**store, master_key).resolve(repository, environment);
  if (!values) return values.error();
  TaskEnvironment resolved{*values, std::nullopt};
  EnvironmentSecrets available(resolved.secrets, repository, environment);
  for (const EnvironmentConfig& candidate : config.environments) {
    if (candidate.name != environment || !candidate.registry) continue;
    auto login = available.registry_login(*candidate.registry);
    if (!login) return login.error();
    if (!login->username.empty()) {
      resolved.credentials =
          PullCredentials{login->username, login->password, split_registry_url(candidate.registry->url).first};
    }
  }
  return resolved;
}

}  // namespace slipway
