// Zstandard's seekable format (contrib/seekable_format in the zstd repository), for log chunks
// that are read by byte range long after they were written. A file is a run of independent zstd
// frames, each holding at most `frame_bytes` of the input, then one skippable frame with the
// seek table: each frame's compressed and decompressed size, the frame count and the magic
// 0x8F92EAB1. Any zstd tool decompresses such a file whole (it skips the skippable frame);
// SeekableZstdFile decompresses only the frames a range touches, so reading 64 KiB of a closed
// 8 MiB chunk costs one 1 MiB frame, not the chunk. Each frame carries its content checksum: a
// damaged file reads as an error, never as other text.
//
// Trade-off: smaller frames make a range read cheaper but compress worse (each frame starts with
// an empty window); 1 MiB frames of test output compress within a few percent of one frame.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"

namespace slipway {

inline constexpr size_t kSeekableFrameBytes = 1 << 20;

// Compresses all of `input` into `output`, created 0600 as OUTPUT.tmp and renamed into place, so
// a reader sees a whole file or none. `input` is left as it is.
Status compress_file_seekable(const std::filesystem::path& input, const std::filesystem::path& output, int level = 3,
                              size_t frame_bytes = kSeekableFrameBytes);

class SeekableZstdFile {
 public:
  // Reads the seek table; an error names the file when it is not in the format (no footer, a
  // table that does not add up to the file's size, a frame over 64 MiB).
  static Result<SeekableZstdFile> open(const std::filesystem::path& path);

  uint64_t size() const { return size_; }  // decompressed bytes
  // The decompressed bytes [offset, offset + count), fewer at the end.
  Result<std::string> read(uint64_t offset, uint64_t count) const;

 private:
  struct Frame {
    uint64_t compressed_offset = 0, decompressed_offset = 0;
    uint32_t compressed_size = 0, decompressed_size = 0;
  };
  SeekableZstdFile(UniqueFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Result<std::string> frame(const Frame& frame) const;

  UniqueFd fd_;
  std::filesystem::path path_;
  std::vector<Frame> frames_;
  uint64_t size_ = 0;
};

}  // namespace slipway
