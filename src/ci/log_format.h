// The on-disk format of a step log (see docs/logs.md): chunk files `000001.log`, `000002.log`…
// holding one record per line, "<timestamp> <stream> <text>\n", where the timestamp is RFC 3339
// UTC with milliseconds ("2026-11-26T05:01:02.345Z", always 24 characters).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ci/step_log.h"

namespace slipway {

inline constexpr size_t kTimestampChars = 24;
// "<timestamp> <stream> " before the text and "\n" after it.
inline constexpr size_t kRecordOverhead = kTimestampChars + 4;

// Formats timestamps for records, reusing the text while the millisecond does not change: a
// step printing fast writes many lines per millisecond, and formatting is not free.
class TimestampCache {
 public:
  std::string_view format(int64_t epoch_ms);

 private:
  int64_t epoch_ms_ = INT64_MIN;
  std::string text_;
};

// Appends one record, newline included.
void append_record(std::string& out, std::string_view timestamp, char stream, std::string_view text);

// Parses one record without its newline; the text is a view into `record`. nullopt when the
// record is not in the format above.
std::optional<LogLine> parse_record(std::string_view record);

// Epoch milliseconds of a timestamp as written by format_timestamp, nullopt when malformed.
std::optional<int64_t> parse_timestamp(std::string_view text);

// A chunk is plain while it is written (`000001.log`) and, once closed, compressed into
// `000001.<plain size>.log.zst` (seekable zstd, base/seekable_zstd.h): the plain size in the name
// lets a reader place every chunk's bytes without opening it.
struct LogChunk {
  uint64_t number = 0;
  std::filesystem::path path;
  bool compressed = false;
  uint64_t plain_size = 0;  // compressed chunks only: the bytes it decompresses to
};

std::string chunk_file_name(uint64_t number);
std::string compressed_chunk_file_name(uint64_t number, uint64_t plain_size);

// The chunk files of `directory` in order; an error when it cannot be listed. Other files in
// the directory are ignored. Where a chunk is there in both forms (its compression just
// finished), the compressed one is listed.
Result<std::vector<LogChunk>> list_log_chunks(const std::filesystem::path& directory);

}  // namespace slipway
