// LogChunkFile: one chunk of a step log read the same way whether it is plain (being written, or
// from before chunks were compressed) or compressed (seekable zstd): its size in plain bytes,
// and any range of those bytes. A plain chunk that the writer compressed between a listing and
// the open is found under its compressed name, so a reader never sees a chunk vanish.
//
// compress_log_chunk is the writer's side: a closed plain chunk becomes its compressed form
// (written beside it and renamed into place), then the plain file is removed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/child_process.h"
#include "base/result.h"
#include "base/seekable_zstd.h"
#include "ci/log_format.h"

namespace slipway {

class LogChunkFile {
 public:
  static Result<LogChunkFile> open(const LogChunk& chunk);

  // Plain bytes: for a plain chunk, as large as it was when opened.
  uint64_t size() const { return size_; }
  // Bytes [offset, offset + count) of the plain text, fewer at the end.
  Result<std::string> read(uint64_t offset, uint64_t count) const;
  // How much to read at a time to stream it: a whole frame of a compressed chunk.
  size_t read_block() const { return compressed_ ? kSeekableFrameBytes : 256 * 1024; }
  const std::filesystem::path& path() const { return path_; }

 private:
  LogChunkFile() = default;

  std::filesystem::path path_;
  std::optional<SeekableZstdFile> compressed_;
  UniqueFd plain_;
  uint64_t size_ = 0;
};

// The compressed form of chunk `number` in `directory`, when it is there: where a plain chunk
// listed a moment ago has gone.
std::optional<LogChunk> compressed_twin(const std::filesystem::path& directory, uint64_t number);

// Closed chunks smaller than this stay plain: compressing a few lines saves nothing worth a
// second file write on every short step.
inline constexpr uint64_t kCompressChunkMinBytes = 16 * 1024;

// `plain` (a closed chunk) → its compressed form; then `plain` is removed. Error (and the plain
// chunk left as it is, still readable) when it cannot be compressed.
Status compress_log_chunk(const std::filesystem::path& plain, uint64_t number);

}  // namespace slipway
