#include "cd/task_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fmt/core.h>

#include "base/files.h"

namespace slipway {

std::string task_log_record(LogStream stream, std::string_view text, int64_t at_ms) {
  return fmt::format("{} {} {}\n", at_ms, stream == LogStream::err ? 'e' : 'o', text);
}

TaskLogFile::TaskLogFile(const std::filesystem::path& path, const std::vector<std::string>& secrets)
    : masker_(secrets), path_(path.string()) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error_ = fmt::format("cannot open the task log {}: {}", path_, errno_text(errno));
    return;
  }
  // A log made by an older version (0644) is closed to others too.
  if (::fchmod(fd_, 0600) != 0) error_ = fmt::format("cannot make the task log {} private: {}", path_, errno_text(errno));
}

TaskLogFile::~TaskLogFile() {
  if (fd_ >= 0) ::close(fd_);
}

void TaskLogFile::append(LogStream stream, std::string_view text, int64_t at_ms) {
  if (fd_ < 0 || !error_.empty()) return;
  std::string record = task_log_record(stream, masker_.empty() ? std::string(text) : masker_.mask(text), at_ms);
  std::string_view left = record;
  while (!left.empty()) {
    ssize_t written = ::write(fd_, left.data(), left.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      error_ = fmt::format("cannot write the task log {}: {}", path_, errno_text(errno));
      return;
    }
    left.remove_prefix(static_cast<size_t>(written));
  }
}

Status create_task_log(const std::filesystem::path& path) {
  const std::filesystem::path folder = path.parent_path();
  if (Status made = make_directories(folder); !made) return made;
  std::error_code error;
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                               error);
  if (error) return make_error(fmt::format("{}: cannot make the task run's folder private: {}", folder.string(),
                                           error.message()));
  TaskLogFile file(path);
  if (!file.error().empty()) return make_error(file.error());
  return {};
}

}  // namespace slipway
