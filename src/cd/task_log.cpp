#include "cd/task_log.h"

#include <system_error>

#include <fmt/core.h>

#include "base/files.h"

namespace slipway {

TaskLogFile::TaskLogFile(const std::filesystem::path& directory, const std::vector<std::string>& secrets) {
  auto masker = secrets.empty() ? nullptr : std::make_shared<const SecretMasker>(secrets);
  auto log = StepLog::create(directory, std::move(masker), nullptr);
  if (!log) {
    error_ = fmt::format("cannot open the task log {}: {}", directory.string(), log.error().message);
    return;
  }
  log_ = std::move(*log);
}

TaskLogFile::~TaskLogFile() { (void)close(); }

Status TaskLogFile::close() {
  if (!log_) return {};
  Status closed = log_->close();
  log_.reset();
  return closed;
}

void TaskLogFile::append(LogStream stream, std::string_view line) {
  if (!log_) return;
  std::string text(line);
  text += '\n';
  log_->on_output(stream == LogStream::err ? OutputStream::err : OutputStream::out, text);
}

Status create_task_log(const std::filesystem::path& directory) {
  const std::filesystem::path folder = directory.parent_path();
  if (Status made = make_directories(folder); !made) return made;
  std::error_code error;
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                               error);
  if (error) return make_error(fmt::format("{}: cannot make the task run's folder private: {}", folder.string(),
                                           error.message()));
  return make_directories(directory);
}

}  // namespace slipway
