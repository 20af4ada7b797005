#include "ci/log_chunk_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/core.h>

#include "base/files.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// Zstd's level 1: test output comes out as small as at level 3 (about 20×) for 12 % less time
// (docs/performance.md#log-throughput).
constexpr int kCompressionLevel = 1;

}  // namespace

std::optional<LogChunk> compressed_twin(const fs::path& directory, uint64_t number) {
  auto chunks = list_log_chunks(directory);
  if (!chunks) return std::nullopt;
  for (const LogChunk& chunk : *chunks) {
    if (chunk.number == number && chunk.compressed) return chunk;
  }
  return std::nullopt;
}

Result<LogChunkFile> LogChunkFile::open(const LogChunk& chunk) {
  LogChunkFile file;
  file.path_ = chunk.path;
  if (!chunk.compressed) {
    file.plain_ = UniqueFd(::open(chunk.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.plain_.valid() && errno == ENOENT) {
      if (auto twin = compressed_twin(chunk.path.parent_path(), chunk.number)) return open(*twin);
    }
    if (!file.plain_.valid()) {
      return make_error(fmt::format("{}: cannot open log chunk: {}", chunk.path.string(), errno_text(errno)));
    }
    struct stat info {};
    if (::fstat(file.plain_.get(), &info) != 0) {
      return make_error(fmt::format("{}: cannot read log chunk: {}", chunk.path.string(), errno_text(errno)));
    }
    file.size_ = static_cast<uint64_t>(info.st_size);
    return file;
  }
  auto compressed = SeekableZstdFile::open(chunk.path);
  if (!compressed) return compressed.error();
  if (compressed->size() != chunk.plain_size) {
    return make_error(fmt::format("{}: holds {} bytes, not the {} its name says", chunk.path.string(),
                                  compressed->size(), chunk.plain_size));
  }
  file.size_ = compressed->size();
  file.compressed_.emplace(std::move(*compressed));
  return file;
}

Result<std::string> LogChunkFile::read(uint64_t offset, uint64_t count) const {
  if (compressed_) return compressed_->read(offset, count);
  std::string bytes;
  if (offset >= size_) return bytes;
  bytes.resize(std::min(count, size_ - offset));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(plain_.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("{}: cannot read log chunk: {}", path_.string(), errno_text(errno)));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

Status compress_log_chunk(const fs::path& plain, uint64_t number) {
  std::error_code error;
  uint64_t size = fs::file_size(plain, error);
  if (error) return make_error(fmt::format("{}: {}", plain.string(), error.message()));
  fs::path compressed = plain.parent_path() / compressed_chunk_file_name(number, size);
  if (Status packed = compress_file_seekable(plain, compressed, kCompressionLevel); !packed) return packed;
  if (::unlink(plain.c_str()) != 0 && errno != ENOENT) {
    return make_error(fmt::format("{}: compressed, but cannot remove the plain chunk: {}", plain.string(),
                                  errno_text(errno)));
  }
  return {};
}

}  // namespace slipway
