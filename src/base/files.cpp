#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <sstream>

#include <fmt/core.h>

namespace slipway {

namespace fs = std::filesystem;

std::string errno_text(int error_number) { return std::strerror(error_number); }

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open: {}", path.string(), errno_text(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return make_error(fmt::format("{}: read failed", path.string()));
  return content.str();
}

Status write_file_atomically(const fs::path& path, std::string_view content, mode_t mode) {
  fs::path temporary = path;
  temporary += fmt::format(".tmp{}", getpid());
  ::unlink(temporary.c_str());  // a leftover of a crash could have another mode
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(fmt::format("{}: cannot create: {}", temporary.string(), errno_text(errno)));
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return make_error(fmt::format("{}: write failed: {}", path.string(), errno_text(saved)));
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return make_error(fmt::format("{}: cannot rename into place: {}", path.string(), errno_text(saved)));
  }
  return {};
}

Status make_directories(const fs::path& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error) return make_error(fmt::format("{}: cannot create directory: {}", path.string(), error.message()));
  return {};
}

bool path_is_within(const fs::path& root, const fs::path& candidate) {
  std::error_code error;
  fs::path resolved_root = fs::weakly_canonical(root, error);
  if (error) return false;
  fs::path resolved = fs::weakly_canonical(candidate.is_absolute() ? candidate : root / candidate, error);
  if (error) return false;
  auto [root_end, _] = std::mismatch(resolved_root.begin(), resolved_root.end(), resolved.begin(),
                                     resolved.end());
  return root_end == resolved_root.end();
}

uint64_t folder_bytes(const fs::path& folder) {
  uint64_t total = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, error), end;
       !error && it != end; it.increment(error)) {
    std::error_code ignored;
    if (it->is_regular_file(ignored)) total += it->file_size(ignored);
  }
  return total;
}

TemporaryDirectory::TemporaryDirectory(std::string_view prefix, const fs::path& parent) {
  fs::path folder = parent.empty() ? fs::temp_directory_path() : parent;
  std::string pattern = (folder / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("cannot create a temporary directory: {}", errno_text(errno)));
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;  // best effort: a leftover temp folder must not abort a test run
  fs::remove_all(path_, ignored);
}

}  // namespace slipway

namespace slipway {

Status give_path_to(const std::filesystem::path& path, uid_t uid) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) == 0 && status.st_uid == uid && status.st_gid == uid) return {};
  if (::lchown(path.c_str(), uid, uid) == 0) return {};
  return make_error(fmt::format("cannot give {} to uid {}: {}", path.string(), uid, errno_text(errno)));
}

Status give_tree_to(const std::filesystem::path& root, uid_t uid) {
  if (Status given = give_path_to(root, uid); !given) return given;
  std::error_code error;
  for (std::filesystem::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    if (Status given = give_path_to(it->path(), uid); !given) return given;
  }
  if (error) return make_error(fmt::format("cannot walk {}: {}", root.string(), error.message()));
  return {};
}

}  // namespace slipway
