// ApplicationDirectory: which configured repositories are deployable applications, read from
// their .slipway.yml on the main branch (the deploy settings of what main publishes), which
// application and environment a pushed image belongs to, and everything a deployment of one
// application to one environment needs (ApplicationTarget), secrets included. Thread-safe: each
// call reads the repository and opens the store afresh, so a changed .slipway.yml or secret is
// seen by the next deployment without a restart.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "base/result.h"
#include "cd/deployment_controller.h"
#include "spec/repository_spec.h"
#include "spec/server_config.h"

namespace slipway {

struct ApplicationAddress {
  std::string application;   // the repository's name
  std::string environment;
};

// "127.0.0.1:5000/prod" → {"127.0.0.1:5000", "prod"}; no path gives an empty prefix.
std::pair<std::string, std::string> split_registry_url(const std::string& url);

class ApplicationDirectory {
 public:
  ApplicationDirectory(const ServerConfig& config, std::filesystem::path database, std::string master_key);

  // The .slipway.yml on the repository's main branch, parsed. Errors name the repository and
  // quote git or the spec's diagnostics.
  Result<RepositorySpec> main_spec(const RepositoryConfig& repository) const;

  // The application and environment whose registry and image name make up `repository` at
  // `registry` (a push's), or nullopt when none does (a push of something Slipway does not
  // deploy, or to an environment without a router).
  std::optional<ApplicationAddress> match_push(const std::string& registry, const std::string& repository) const;

  // Errors: unknown application or environment, a repository that is not an application, an
  // unreadable .slipway.yml, a deploy secret or the registry credentials not set (the message
  // says which `slipway secret set` to run). No `deploy:` section means the defaults.
  Result<ApplicationTarget> resolve(const std::string& application, const std::string& environment) const;

  const ServerConfig& config() const { return config_; }

 private:
  // The image repository ("prefix/name", without the registry) of an application in an
  // environment, or nullopt when either has no registry or image.
  std::optional<std::string> image_repository(const std::string& application, const std::string& environment) const;

  const ServerConfig& config_;
  std::filesystem::path database_;
  std::string master_key_;
};

}  // namespace slipway
