// LogChunkWriter: appends records to a directory's chunk files, `000001.log` onwards, through
// its own buffer and plain write(2) calls: no fsync per line (a crash may lose the last buffer
// of output, which the step's outcome records anyway). A chunk is closed and the next one
// started before a record that would take it past `chunk_bytes`, so chunks end on record
// boundaries and stay within `chunk_bytes` unless a single record is larger.
//
// A closed chunk of at least kCompressChunkMinBytes is compressed (ci/log_chunk_file.h) by a
// thread of the writer's own, so the step's output keeps flowing on this one while the last
// chunk is compressed on another core; close() waits for it. A chunk that cannot be compressed
// stays plain (logged): readers take either form.
//
// Opening a directory that already holds chunks continues after the last one: nothing written
// before is ever overwritten.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
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
  // Writes the buffer out, closes the current chunk and waits until every closed chunk is
  // compressed. Appending again afterwards starts the next chunk.
  Status close();

 private:
  LogChunkWriter(std::filesystem::path directory, size_t chunk_bytes, uint64_t next_number);
  Status start_chunk();
  Status close_chunk();  // the current one, handing it to the compressor
  void compress_in_background(std::filesystem::path chunk, uint64_t number);
  void wait_for_compression();

  std::filesystem::path directory_;
  size_t chunk_bytes_;
  uint64_t next_number_;
  std::filesystem::path current_path_;
  int fd_ = -1;
  size_t chunk_size_ = 0;  // bytes of the current chunk, buffered ones included
  std::string buffer_;
  std::thread compressor_;  // compresses the chunks closed so far, then ends
  std::mutex mutex_;        // guards queued_
  std::deque<std::pair<std::filesystem::path, uint64_t>> queued_;
};

}  // namespace slipway
