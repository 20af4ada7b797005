// TaskLogFile: a task run's output file, one record per line — "<unix ms> <o|e> <text>\n" (o:
// stdout, e: stderr) — each written with one write(2) as it comes, so the API can stream a run's
// log while it is still being written and never sees half a record. The run's secret values are
// masked ("***") in every line before it is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
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
  std::vector<std::string> masked_;  // longest first, so that a secret inside another goes with it
  int fd_ = -1;
  std::string path_;
  std::string error_;
};

// Each secret's whole value and, for a multi-line one, each of its lines, where 4+ characters
// long: shorter values would blank out ordinary text. (The CI's SecretMasker, which also masks
// encoded forms, lives in ci/, which cd/ may not use.)
std::string mask_secrets(std::string_view text, const std::vector<std::string>& patterns);
std::vector<std::string> secret_patterns(const std::vector<std::string>& secrets);

// The record as written: "1767225600123 o text\n".
std::string task_log_record(LogStream stream, std::string_view text, int64_t at_ms);

// Creates the run's folder and its (empty) output file, so that a queued run has a log to open.
Status create_task_log(const std::filesystem::path& path);

}  // namespace slipway
