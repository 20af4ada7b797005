// Reading a .slipway.yml: from a commit's git objects (the server and `slipway run`, never the
// checkout) or from a file (`slipway validate`), with the same rules either way. The file is
// written by whoever can push a branch, so it is read as hostile: only a regular file (a blob of
// mode 100644 or 100755) of at most kMaxSpecFileBytes is read, and its size is known before a
// byte of it is. A symlink (its target could be the server's master key, or /dev/zero), a
// submodule, a directory or a bigger file is refused with a message that names the problem and
// quotes none of the content — nor a symlink's target.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "base/result.h"

namespace slipway {

inline constexpr size_t kMaxSpecFileBytes = 256 * 1024;  // a large real one is ~10 KiB
inline constexpr const char* kSpecFileName = ".slipway.yml";

// The .slipway.yml at the root of `revision` (a commit sha, or refs/heads/BRANCH) in the git
// repository at `repository`, through the repository's GitObjects (base/git_objects.h): the root
// tree gives its mode, the object its size, and only then are its bytes read. Errors: no such file ("... has no .slipway.yml at the repository
// root"), not a regular file, too big, git failing; each names `revision` (shortened).
Result<std::string> read_spec_at_revision(const std::filesystem::path& repository, const std::string& revision);

// The file at `path`, opened without following a symlink and checked through the descriptor it is
// read from (fstat: a regular file, at most kMaxSpecFileBytes). Errors name `path`.
Result<std::string> read_spec_file(const std::filesystem::path& path);

}  // namespace slipway
