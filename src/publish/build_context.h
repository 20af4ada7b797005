// The build context of an image: a folder's files as the tar stream the Docker Engine's /build
// takes. Entries are sorted and carry fixed owners, times and modes, so the same files give the
// same bytes (and so the same image layers); .dockerignore is honoured as `docker build` does;
// symlinks travel as links, never followed, and one pointing out of the folder is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

struct BuildContextEntry {
  enum class Kind { directory, file, symlink };
  std::string path;          // relative to the folder, '/' separated: "src/main.cpp"
  Kind kind = Kind::file;
  std::string link_target;   // symlinks: the link's text, which stays inside the folder
  int64_t size = 0;          // files: bytes
  bool executable = false;   // files: any execute bit set (sent as 0755, else 0644)
};

// What the context holds, sorted by path (bytewise, so a folder comes before its contents).
// `.dockerignore` at the folder's root is applied, except that the Dockerfile and .dockerignore
// are always sent (as the Docker CLI does). Sockets, pipes and devices are left out.
// Errors: the folder or `dockerfile` (a path relative to the folder) missing, a path that cannot
// be read, or a symlink whose target is absolute or climbs out of the folder.
Result<std::vector<BuildContextEntry>> list_build_context(const std::filesystem::path& folder,
                                                          std::string_view dockerfile = "Dockerfile");

// Writes the context as an uncompressed POSIX (pax) tar at `tar_file`: entries as listed above,
// owner 0:0, modification time 0 (the epoch), modes 0755/0644 (0777 for links). An Error names
// the file that failed, and one that changed size while being read.
Status write_build_context(const std::filesystem::path& folder, const std::filesystem::path& tar_file,
                           std::string_view dockerfile = "Dockerfile");

}  // namespace slipway
