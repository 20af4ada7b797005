// TaskLogFile: a task run's output, written as a step's log is (ci/step_log.h): masked by the one
// SecretMasker on the stream (exact value, base64, URL-encoded, JSON-escaped, each line of a
// multi-line secret) before anything is written, cut into records of at most 64 KiB, stamped,
// appended to chunk files in the run's log folder, each closed chunk compressed. So the API
// reads a task run's log with the same range reader as a step's, and a container's line is on
// disk as soon as it comes (one write per line), for a follower to read while the run goes on.
// The log holds at most 1 GiB (StepLog's default max_bytes); the run's folder is 0700 and each
// chunk 0600: a log may hold what a task printed of other people's data.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cd/docker_stream.h"
#include "ci/step_log.h"

namespace slipway {

class TaskLogFile {
 public:
  // Opens `directory` (made if missing; a log written before continues after its chunks).
  // error() says why it could not.
  explicit TaskLogFile(const std::filesystem::path& directory, const std::vector<std::string>& secrets = {});
  ~TaskLogFile();  // close()s
  TaskLogFile(const TaskLogFile&) = delete;
  TaskLogFile& operator=(const TaskLogFile&) = delete;

  const std::string& error() const { return error_; }  // "" when open
  // Appends one line of the container's output (without its newline).
  void append(LogStream stream, std::string_view line);
  // Writes out and compresses what is left; an error says what could not be written.
  Status close();

 private:
  std::unique_ptr<StepLog> log_;
  std::string error_;
};

// Creates the run's folder (0700) and its empty log folder `directory` inside it, so that a
// queued run has a log to open.
Status create_task_log(const std::filesystem::path& directory);

}  // namespace slipway
