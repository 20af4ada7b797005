// Range reads of a step's log for the API: byte offsets index the concatenation of the step's
// chunk files (ci/log_format.h), so a client can page forward, open on the tail, and resume a
// live follow where it stopped. Only the chunks a range touches are opened, and only the bytes
// it covers are read, so a 100 MB log costs what the page costs. Offsets are aligned to record
// boundaries: a read never starts or ends inside a record (a record still being written is
// left for the next read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace slipway {

struct LogRecord {
  int64_t timestamp_ms = 0;
  char stream = 'o';           // as on disk: o, e, s; O/E for a piece of a longer line
  std::string text;
};

struct LogRange {
  uint64_t offset = 0;         // where the returned records start (aligned)
  uint64_t next_offset = 0;    // where the next read should start
  uint64_t size = 0;           // bytes in the log so far
  std::vector<LogRecord> records;
};

// At most about `limit` bytes of whole records from `offset` (moved back to the start of the
// record it falls in). A record longer than `limit` is still returned whole, so a reader always
// makes progress. A missing directory is an empty log.
Result<LogRange> read_log_range(const std::filesystem::path& directory, uint64_t offset, uint64_t limit);

// The last `tail_bytes` of the log (from the start of the record they begin in), at most `limit`.
Result<LogRange> read_log_tail(const std::filesystem::path& directory, uint64_t tail_bytes, uint64_t limit);

// {"ts": epoch ms, "stream": "stdout"|"stderr"|"system", "text": ...} plus "continued": true on
// a piece of a cut line that the next record continues.
nlohmann::json log_record_json(const LogRecord& record);

}  // namespace slipway
