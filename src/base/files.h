// Whole-file reads and writes, directories and temporary folders. Every failure comes back as
// an Error naming the path and the system's reason.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

Result<std::string> read_file(const std::filesystem::path& path);

// Writes to a temporary sibling then renames it over `path`, so readers never see half a file.
// `mode` is the file's from its creation (0600 for a key: never readable by others, not even
// for a moment).
Status write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

Status make_directories(const std::filesystem::path& path);

// True when `candidate`, after resolving every symlink that exists, lies inside `root`
// (also resolved). Used to keep repository-supplied paths from escaping a workspace.
bool path_is_within(const std::filesystem::path& root, const std::filesystem::path& candidate);

// The bytes of every regular file under `folder` (symlinks not followed); 0 when it is missing.
// Files that vanish or cannot be read while it walks are skipped: a measure, not an audit.
uint64_t folder_bytes(const std::filesystem::path& folder);

// Makes `uid` (and its group of the same number) the owner of `root` and of everything under it.
// Links are changed themselves, never followed. An entry that is already the uid's is left
// alone: on an overlay that matters, since changing a lower file's owner copies the whole file
// up (ci/workspace_template.h).
Status give_tree_to(const std::filesystem::path& root, uid_t uid);
// The same for one entry.
Status give_path_to(const std::filesystem::path& path, uid_t uid);

// A fresh directory under the system's temporary folder (or `parent`), removed with everything
// inside it when the object is destroyed. For tests and short-lived work.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(std::string_view prefix = "slipway", const std::filesystem::path& parent = {});
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string errno_text(int error_number);

}  // namespace slipway
