// Reads a task run's log for the API. A run's log is a folder of step-log chunks (cd/task_log.h),
// read by byte range with the steps' own reader (server/log_range.h); a run from before that is
// one file with a record per line, "<unix ms> <o|e> <text>\n", still read as it is. A read starts
// at a byte offset (a previous read's next_offset) and returns whole lines only, at most about
// `limit` bytes, so a client pages through a log of any size and a line still being written
// waits for the next read. A missing log is an empty one (the run's container has not started).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway {

struct TaskLogLine {
  int64_t at_ms = 0;
  std::string stream;   // "stdout", "stderr" or "system"; "" for a line not in the format (shown as is)
  std::string text;
};

struct TaskLogPage {
  std::vector<TaskLogLine> lines;
  uint64_t next_offset = 0;   // where the next read starts
  uint64_t size = 0;          // bytes in the file when read
};

// A line longer than `limit` comes back cut at `limit` bytes (an old file) or whole (at most
// 64 KiB, a folder), so a reader always makes progress.
Result<TaskLogPage> read_task_log(const std::filesystem::path& log, uint64_t offset, uint64_t limit);

// One record of an old file, without its newline.
TaskLogLine parse_task_log_line(std::string_view record);

}  // namespace slipway
