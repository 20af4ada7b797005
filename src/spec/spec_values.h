// The value rules of .slipway.yml that do not depend on YAML: names, paths, sizes. Pure
// functions, so the server config and the CLI can apply the same rules to their own input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/names.h"
#include "base/result.h"

namespace slipway {

// (The name rules, is_valid_job_name and is_valid_variable_name, are base/names.h's.)

// Image repository names as registries accept them: lowercase components of [a-z0-9._-]
// separated by '/', each starting and ending with a letter or digit.
bool is_valid_image_repository(std::string_view name);

// Why `path` may not name a file inside the workspace (absolute, or a '..' component), or
// nothing when it may. Globs are fine: only the shape of the path is checked.
std::optional<std::string> workspace_path_problem(std::string_view path);

// "512m", "1g", "256k" (binary multiples, any case) or plain bytes, greater than zero.
Result<int64_t> parse_memory_size(std::string_view text);

}  // namespace slipway
