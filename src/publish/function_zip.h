// Function bundles (Lambda-style zips) of a data task: a folder packed so that the same files
// always give the same bytes, whoever packs them, wherever, whenever — so an unchanged function
// uploads nothing new and its hash names its content. Nothing in the zip leaves the folder.
#pragma once

#include <cstdint>
#include <filesystem>

#include "base/result.h"

namespace slipway {

struct ZipSummary {
  int64_t files = 0;      // regular files and symlinks stored (directories not counted)
  int64_t bytes = 0;      // size of the zip file
  std::string sha256;     // of the zip file, lowercase hex
};

// Packs every file, symlink and directory under `folder` into `zip_file`, deterministically:
// entries sorted by their path (byte order, directories with a trailing '/'), each stamped
// 1980-01-01 00:00:00 (the zip epoch) with no extended timestamps, modes 0644 for files, 0755
// for executables (any x bit) and directories, 0777 for symlinks, uid/gid 0 and no owner
// names, file data deflated. Symlinks are stored as links and must be relative and point inside
// the folder; an absolute or escaping target, a special file (fifo, socket, device) or a name
// that is not UTF-8 is an Error naming the path. `zip_file` is written to a temporary sibling
// and renamed into place, so it is never left half-written; it must lie outside `folder`.
Result<ZipSummary> write_function_zip(const std::filesystem::path& folder, const std::filesystem::path& zip_file);

}  // namespace slipway
