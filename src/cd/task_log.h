// TaskLogFile: a task run's output file, one record per line — "<unix ms> <o|e> <text>\n" (o:
// stdout, e: stderr) — each written with one write(2) as it comes, so the API can stream a run's
// log while it is still being written and never sees half a record. The run's secrets are masked
// ("***") in every line before it is written, by the same SecretMasker as step logs: exact,
// base64, URL-encoded, JSON-escaped and each line of a multi-line secret. The file is 0600 and
// its folder 0700: a log may still hold what a task printed of other people's data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret_masker.h"
#include "cd/docker_stream.h"

namespace slipway {

class TaskLogFile {
 public:
  // Opens (creating, appending) `path`; its folder must exist. error() says why it could not.
  explicit TaskLogFile(const std::filesystem::path& path, const std::vector<std::string>& secrets = {});
  ~TaskLogFile();
  TaskLogFile(const TaskLogFile&) = delete;
  TaskLogFile& operator=(const TaskLogFile&) = delete;

  const std::string& error() const { return error_; }  // "" when open
  // Appends one record; a failed write is remembered in error() rather than repeated per line.
  void append(LogStream stream, std::string_view text, int64_t at_ms);

 private:
  SecretMasker masker_;
  int fd_ = -1;
  std::string path_;
  std::string error_;
};

// The record as written: "1767225600123 o text\n".
std::string task_log_record(LogStream stream, std::string_view text, int64_t at_ms);

// Creates the run's folder (0700) and its empty output file (0600), so that a queued run has a
// log to open.
Status create_task_log(const std::filesystem::path& path);

}  // namespace slipway
