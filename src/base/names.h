// The two name rules everything a user names follows, in the lowest layer because both the
// configuration (spec/, reading .slipway.yml and slipway.yml) and the store (checking what the
// secrets API writes) apply them, and the store sits below spec. Pure functions.
#pragma once

#include <string_view>

namespace slipway {

// Repository, environment, suite, service, task and function names: [A-Za-z0-9_.-]+. They end
// up in step names, log file names and URLs, so nothing that needs quoting.
bool is_valid_job_name(std::string_view name);

// Secret and environment variable names: [A-Za-z_][A-Za-z0-9_]*, what a shell accepts.
bool is_valid_variable_name(std::string_view name);

}  // namespace slipway
