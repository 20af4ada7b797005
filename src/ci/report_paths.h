// resolve_report_paths: expands a suite's `junit:` path or glob inside a workspace, refusing
// anything that would leave it: `..` components, absolute paths, and symlinks (at any level)
// that resolve outside the workspace. Returns the matching regular files, sorted.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

// An Error explains which rule the pattern broke ("report path 'x' escapes the workspace").
// No match is not an error here: it returns an empty list, and the caller reports the missing
// file in the suite's result.
Result<std::vector<std::filesystem::path>> resolve_report_paths(
    const std::filesystem::path& workspace, std::string_view pattern);

}  // namespace slipway
