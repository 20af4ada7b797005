// The two name rules everything a user names follows, in the lowest layer because both the
// configuration (spec/, reading .slipway.yml and slipway.yml) and the store (checking what the
// secrets API writes) apply them, and the store sits below spec. Pure functions.
#pragma once

#include <string_view>

namespace slipway {

// Repository, environment, suite, service, task and function names: [A-Za-z0-9_.-]+, but not
// "." or "..". They end up in step names, file and folder names (a repository's mirror, template
// and credentials; a function's object key) and URLs, so nothing that needs quoting and nothing
// that names a folder above.
bool is_valid_job_name(std::string_view name);

// What a message says about that rule, after "invalid ... name 'x': ".
inline constexpr std::string_view kJobNameRule = "use letters, digits, '_', '.' and '-' (not '.' or '..' alone)";

// Secret and environment variable names: [A-Za-z_][A-Za-z0-9_]*, what a shell accepts.
bool is_valid_variable_name(std::string_view name);

}  // namespace slipway
