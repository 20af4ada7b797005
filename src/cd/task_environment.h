// A data task's run environment: the secrets of its repository in its environment, and the
// environment registry's login to pull its image — read from the secret store at each run, by
// the same rule as a deployment's (spec/environment_secrets.h: a login the configuration names
// must be set, or the run is refused saying which secret).
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "cd/task_runner.h"
#include "spec/server_config.h"

namespace slipway {

Result<TaskEnvironment> resolve_task_environment(const std::filesystem::path& database, const std::string& master_key,
                                                 const ServerConfig& config, const std::string& repository,
                                                 const std::string& environment);

}  // namespace slipway
