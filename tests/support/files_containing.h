// files_containing: every regular file under a folder (logs, reports, SQLite and its WAL) whose
// bytes hold `needle` — how the secrets tests prove a value was stored nowhere in clear.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/files.h"

namespace slipway::testing {

inline std::vector<std::string> files_containing(const std::filesystem::path& folder, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    auto content = read_file(entry.path());
    if (content && content->find(needle) != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

}  // namespace slipway::testing
