// read_step_log: streams the records of a step's chunk files (plain or compressed) back in order
// a block at a time, so reading a log of any size costs about one block (a compressed frame)
// and one record of memory.
#include <cstring>

#include <fmt/core.h>

#include "base/files.h"
#include "ci/log_chunk_file.h"
#include "ci/log_format.h"
#include "ci/step_log.h"

namespace slipway {

namespace {

// No record the writer produces is longer; anything longer is not a step log.
constexpr size_t kMaxRecordBytes = StepLog::kMaxLineBytes + kRecordOverhead;

class ChunkReader {
 public:
  ChunkReader(const LogChunk& chunk, const std::function<bool(const LogLine&)>& visit)
      : chunk_(chunk), visit_(visit) {}

  // Ok with `stopped` set when the visitor asked to stop.
  Status read(bool& stopped);

 private:
  Status consume(std::string_view data, bool& stopped);
  Status deliver(std::string_view record, bool& stopped);

  const LogChunk& chunk_;
  const std::function<bool(const LogLine&)>& visit_;
  std::string carry_;  // the start of a record that continues in the next read
  uint64_t offset_ = 0;  // of the next record, for error messages
};

Status ChunkReader::read(bool& stopped) {
  auto file = LogChunkFile::open(chunk_);
  if (!file) return file.error();
  Status status;
  for (uint64_t offset = 0; status && !stopped && offset < file->size();) {
    auto bytes = file->read(offset, file->read_block());
    if (!bytes) return bytes.error();
    if (bytes->empty()) break;  // a plain chunk shorter than when it was opened
    offset += bytes->size();
    status = consume(*bytes, stopped);
  }
  // A record without its newline was cut by a crash; keep it when it still parses.
  if (status && !stopped && !carry_.empty() && parse_record(carry_)) status = deliver(carry_, stopped);
  return status;
}

Status ChunkReader::consume(std::string_view data, bool& stopped) {
  while (!data.empty() && !stopped) {
    const void* newline = std::memchr(data.data(), '\n', data.size());
    if (newline == nullptr) {
      carry_.append(data);
      if (carry_.size() > kMaxRecordBytes) {
        return make_error(fmt::format("{}: record at byte {} is longer than any step log record",
                                      chunk_.path.string(), offset_));
      }
      return {};
    }
    size_t length = static_cast<size_t>(static_cast<const char*>(newline) - data.data());
    Status delivered;
    if (carry_.empty()) {
      delivered = deliver(data.substr(0, length), stopped);
    } else {
      carry_.append(data.substr(0, length));
      delivered = deliver(carry_, stopped);
      carry_.clear();
    }
    if (!delivered) return delivered;
    data.remove_prefix(length + 1);
  }
  return {};
}

Status ChunkReader::deliver(std::string_view record, bool& stopped) {
  auto line = parse_record(record);
  if (!line) {
    return make_error(fmt::format("{}: record at byte {} is not a step log record", chunk_.path.string(), offset_));
  }
  offset_ += record.size() + 1;
  if (!visit_(*line)) stopped = true;
  return {};
}

}  // namespace

Status read_step_log(const std::filesystem::path& directory, const std::function<bool(const LogLine&)>& visit) {
  auto chunks = list_log_chunks(directory);
  if (!chunks) return chunks.error();
  bool stopped = false;
  for (const auto& chunk : *chunks) {
    ChunkReader reader(chunk, visit);
    if (auto read = reader.read(stopped); !read) return read;
    if (stopped) break;
  }
  return {};
}

}  // namespace slipway
