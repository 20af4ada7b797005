#include "server/log_range.h"

#include <algorithm>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "ci/log_chunk_file.h"
#include "ci/log_format.h"
#include "ci/step_log.h"

namespace slipway {

namespace {

// Longest record: a cut line's text (each invalid byte may become a 3-byte U+FFFD) plus framing.
constexpr uint64_t kMaxRecordBytes = 3 * StepLog::kMaxLineBytes + kRecordOverhead;

struct ChunkSpan {
  LogChunk chunk;
  uint64_t start = 0;  // offset of its first byte in the concatenation
  uint64_t size = 0;
};

struct ChunkSet {
  std::vector<ChunkSpan> chunks;
  uint64_t size = 0;
};

// Sizes without opening a chunk: a plain one's from stat, a compressed one's from its name.
Result<ChunkSet> list_chunks(const std::filesystem::path& directory) {
  ChunkSet set;
  std::error_code missing;
  if (!std::filesystem::is_directory(directory, missing)) return set;
  auto chunks = list_log_chunks(directory);
  if (!chunks) return chunks.error();
  for (const auto& chunk : *chunks) {
    uint64_t size = chunk.plain_size;
    if (!chunk.compressed) {
      std::error_code error;
      size = std::filesystem::file_size(chunk.path, error);
      if (error) {  // compressed between the listing and the stat: its twin has the same bytes
        auto twin = compressed_twin(directory, chunk.number);
        if (!twin) continue;
        set.chunks.push_back(ChunkSpan{*twin, set.size, twin->plain_size});
        set.size += twin->plain_size;
        continue;
      }
    }
    set.chunks.push_back(ChunkSpan{chunk, set.size, size});
    set.size += size;
  }
  return set;
}

// Bytes [from, from + count) of the concatenation (fewer at its end).
Result<std::string> read_bytes(const ChunkSet& set, uint64_t from, uint64_t count) {
  std::string bytes;
  uint64_t end = std::min(set.size, from + count);
  for (const auto& span : set.chunks) {
    uint64_t chunk_end = span.start + span.size;
    if (chunk_end <= from || span.start >= end) continue;
    uint64_t begin = std::max(from, span.start);
    uint64_t length = std::min(end, chunk_end) - begin;
    auto file = LogChunkFile::open(span.chunk);
    if (!file) return file.error();
    auto read = file->read(begin - span.start, length);
    if (!read) return read.error();
    if (read->size() != length) return make_error(fmt::format("log chunk {} is shorter than it was", span.chunk.path.string()));
    bytes += *read;
  }
  return bytes;
}

// The start of the record containing `offset`: just after the last newline before it.
Result<uint64_t> align_to_record(const ChunkSet& set, uint64_t offset) {
  offset = std::min(offset, set.size);
  if (offset == 0) return uint64_t{0};
  uint64_t window = std::min(offset, kMaxRecordBytes);
  auto before = read_bytes(set, offset - window, window);
  if (!before) return before.error();
  size_t newline = before->rfind('\n');
  if (newline == std::string::npos) return offset - window;  // only possible at the log's start
  return offset - window + newline + 1;
}

LogRecord to_record(std::string_view line) {
  if (auto parsed = parse_record(line)) {
    return LogRecord{parsed->timestamp_ms, parsed->stream, std::string(parsed->text)};
  }
  return LogRecord{0, 's', sanitize_utf8(line)};  // not ours: show it rather than lose it
}

Result<LogRange> read_aligned(const ChunkSet& set, uint64_t start, uint64_t limit) {
  LogRange range;
  range.offset = range.next_offset = start;
  range.size = set.size;
  auto bytes = read_bytes(set, start, std::max<uint64_t>(limit, 1));
  if (!bytes) return bytes.error();
  if (bytes->find('\n') == std::string::npos && start + bytes->size() < set.size) {
    bytes = read_bytes(set, start, std::max<uint64_t>(limit, kMaxRecordBytes));  // one long record
    if (!bytes) return bytes.error();
    if (size_t newline = bytes->find('\n'); newline != std::string::npos) bytes->resize(newline + 1);
  }
  std::string_view view(*bytes);
  size_t position = 0;
  for (size_t newline; (newline = view.find('\n', position)) != std::string_view::npos; position = newline + 1) {
    range.records.push_back(to_record(view.substr(position, newline - position)));
  }
  range.next_offset = start + position;
  return range;
}

}  // namespace

Result<LogRange> read_log_range(const std::filesystem::path& directory, uint64_t offset, uint64_t limit) {
  auto set = list_chunks(directory);
  if (!set) return set.error();
  auto start = align_to_record(*set, offset);
  if (!start) return start.error();
  return read_aligned(*set, *start, limit);
}

Result<LogRange> read_log_tail(const std::filesystem::path& directory, uint64_t tail_bytes, uint64_t limit) {
  auto set = list_chunks(directory);
  if (!set) return set.error();
  tail_bytes = std::min({tail_bytes, limit, set->size});
  auto start = align_to_record(*set, set->size - tail_bytes);
  if (!start) return start.error();
  return read_aligned(*set, *start, set->size - *start);
}

nlohmann::json log_record_json(const LogRecord& record) {
  char stream = static_cast<char>(std::tolower(static_cast<unsigned char>(record.stream)));
  nlohmann::json line = {{"ts", record.timestamp_ms},
                         {"stream", stream == 'e' ? "stderr" : stream == 's' ? "system" : "stdout"},
                         {"text", record.text}};
  if (record.stream == 'O' || record.stream == 'E') line["continued"] = true;
  return line;
}

}  // namespace slipway
