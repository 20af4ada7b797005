#include "cd/task_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"

namespace slipway {

std::string task_log_record(LogStream stream, std::string_view text, int64_t at_ms) {
  return fmt::format("{} {} {}\n", at_ms, stream == LogStream::err ? 'e' : 'o', text);
}

std::vector<std::string> secret_patterns(const std::vector<std::string>& secrets) {
  constexpr size_t kShortest = 4;
  std::vector<std::string> patterns;
  for (const std::string& secret : secrets) {
    if (secret.size() >= kShortest) patterns.push_back(secret);
    if (secret.find('\n') == std::string::npos) continue;
    for (const std::string& line : split(secret, '\n')) {
      std::string_view text = trim(line);
      if (text.size() >= kShortest) patterns.emplace_back(text);
    }
  }
  std::sort(patterns.begin(), patterns.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
  return patterns;
}

std::string mask_secrets(std::string_view text, const std::vector<std::string>& patterns) {
  std::string masked(text);
  for (const std::string& pattern : patterns) {
    for (size_t at = masked.find(pattern); at != std::string::npos; at = masked.find(pattern, at + 3)) {
      masked.replace(at, pattern.size(), "***");
    }
  }
  return masked;
}

TaskLogFile::TaskLogFile(const std::filesystem::path& path, const std::vector<std::string>& secrets)
    : masked_(secret_patterns(secrets)), path_(path.string()) {
  // The server's user alone: a task's output is what it chose to print, secrets included.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) error_ = fmt::format("cannot open the task log {}: {}", path_, errno_text(errno));
}

TaskLogFile::~TaskLogFile() {
  if (fd_ >= 0) ::close(fd_);
}

void TaskLogFile::append(LogStream stream, std::string_view text, int64_t at_ms) {
  if (fd_ < 0 || !error_.empty()) return;
  std::string record = task_log_record(stream, masked_.empty() ? std::string(text) : mask_secrets(text, masked_), at_ms);
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
  if (Status made = make_directories(path.parent_path()); !made) return made;
  TaskLogFile file(path);
  if (!file.error().empty()) return make_error(file.error());
  return {};
}

}  // namespace slipway
