// Secrets handed to `slipway run`: a file of NAME=value lines (blank lines and # comments
// ignored; NAME<<DELIMITER ... DELIMITER for a multi-line value, as GitHub's env files), or names
// whose values are read from this process's environment. Values never come from argv.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

// Errors name the file and line: "secrets.env:3: expected NAME=value".
Result<std::map<std::string, std::string>> parse_secrets_file(std::string_view text, std::string_view file_name);

// Reads each NAME from the environment; an unset variable is an Error naming it.
Result<std::map<std::string, std::string>> secrets_from_environment(const std::vector<std::string>& names);

}  // namespace slipway
