// LogChunkWriter: appends records to a directory's chunk files, `000001.log` onwards, through
// its own buffer and plain write(2) calls: no fsync per line (a crash may lose the last buffer
// of output, which the step's outcome records anyway). A chunk is closed and the next one
// started before a record that would take it past `chunk_bytes`, so chunks end on record
// boundaries and stay within `chunk_bytes` unless a single record is larger.
//
// Opening a directory that already holds chunks continues after the last one: nothing written
// before is ever overwritten.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

class LogChunkWriter {
 public:
  static constexpr size_t kBufferBytes = 256 * 1024;

  static Result<std::unique_ptr<LogChunkWriter>> open(const std::filesystem::path& directory,
                                                      size_t chunk_bytes);
  ~LogChunkWriter();
  LogChunkWriter(const LogChunkWriter&) = delete;
  LogChunkWriter& operator=(const LogChunkWriter&) = delete;

  Status append(std::string_view timestamp, char stream, std::string_view text);
  // Writes the buffer out, so readers of the chunk files (the server's live log views) see
  // everything appended so far. One write(2), however many records are buffered.
  Status flush();
  // Writes the buffer out and closes the current chunk.
  Status close();

 private:
  LogChunkWriter(std::filesystem::path directory, size_t chunk_bytes, uint64_t next_number);
  Status start_chunk();

  std::filesystem::path directory_;
  size_t chunk_bytes_;
  uint64_t next_number_;
  std::filesystem::path current_path_;
  int fd_ = -1;
  size_t chunk_size_ = 0;  // bytes of the current chunk, buffered ones included
  std::string buffer_;
};

}  // namespace slipway
