// ServerConfig: the typed form of the server's slipway.yml (DESIGN §6): where it listens, how
// many runs at once, the environments and the repositories it builds. Parsed like .slipway.yml:
// unknown keys are errors with file:line:col and "did you mean"; never throws. Values in
// capitals in the file (credentials) are the *names* of secrets, never their values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "spec/job_plan.h"
#include "spec/repository_spec.h"

namespace slipway {

struct RepositoryConfig {
  std::string name;                     // [A-Za-z0-9_.-]+, unique
  std::string url;                      // a local path (bare or work tree) or file:// URL
  std::string main_branch = "main";
  Milliseconds poll_interval{60'000};   // 0 disables polling for this repository
  std::string webhook_secret;           // name of the secret holding the HMAC key; "" = none
};

struct EnvironmentConfig {
  std::string name;
  bool on_main = false;                 // `publish: on-main` (else `manual`)
};

struct ServerConfig {
  std::string listen = "127.0.0.1:7700";
  int concurrency = 0;                  // 0: the number of cores
  bool cancel_superseded = true;        // a newer push cancels the branch's older run
  bool anonymous_read = false;          // GET routes without a token
  size_t max_body_bytes = 1 << 20;      // webhook/API bodies; larger: 413
  std::string executor = "sandbox";     // "sandbox" | "host"
  std::vector<EnvironmentConfig> environments = {
      {"development", false}, {"staging", true}, {"production", true}};
  std::vector<RepositoryConfig> repositories;

  const RepositoryConfig* find_repository(std::string_view name) const;
  std::vector<EnvironmentPolicy> policies() const;
};

struct ParsedServerConfig {
  std::optional<ServerConfig> config;
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return config.has_value(); }
};

ParsedServerConfig parse_server_config(std::string_view yaml_text, std::string_view file_name);

}  // namespace slipway
