#include "base/seekable_zstd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/core.h>

#include "base/files.h"

namespace slipway {
namespace {

constexpr uint32_t kSkippableMagic = 0x184D2A5E;  // the seek table's frame, skipped by decoders
constexpr uint32_t kSeekableMagic = 0x8F92EAB1;
constexpr size_t kFooterBytes = 9;                // frame count (4), descriptor (1), magic (4)
constexpr uint32_t kMaxFrameBytes = 64u << 20;    // refuse a table that asks for more per frame

void put_u32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint32_t get_u32(const unsigned char* in) {
  return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 24;
}

// pread until `size` bytes or the end; error on a read failure.
Result<size_t> read_at(int fd, void* into, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, static_cast<char*>(into) + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(errno_text(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(errno_text(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// The frames, then the seek table, into `out`. Streams through two 128 KiB buffers, ending a
// frame every `frame_bytes` of input, so compressing never holds a frame in memory.
Status write_frames(int in, int out, int level, size_t frame_bytes) {
  constexpr size_t kBlock = 128 * 1024;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!context) return make_error("cannot allocate a zstd context");
  // Each frame carries its content checksum, so a damaged file is an error, never other text.
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);
  std::string input(kBlock, '\0'), output(ZSTD_CStreamOutSize(), '\0'), table;
  uint32_t frames = 0;
  uint64_t frame_in = 0, frame_out = 0, offset = 0;
  for (bool end_of_input = false; !end_of_input;) {
    auto got = read_at(in, input.data(), std::min<uint64_t>(kBlock, frame_bytes - frame_in), offset);
    if (!got) return got.error();
    offset += *got;
    frame_in += *got;
    end_of_input = *got == 0;
    bool frame_full = frame_in == frame_bytes;
    if (end_of_input && frame_in == 0) break;  // nothing left for another frame
    ZSTD_EndDirective mode = end_of_input || frame_full ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer from{input.data(), *got, 0};
    for (size_t left = 1; from.pos < from.size || (mode == ZSTD_e_end && left != 0);) {
      ZSTD_outBuffer to{output.data(), output.size(), 0};
      left = ZSTD_compressStream2(context.get(), &to, &from, mode);
      if (ZSTD_isError(left)) return make_error(ZSTD_getErrorName(left));
      if (Status written = write_all(out, std::string_view(output.data(), to.pos)); !written) return written;
      frame_out += to.pos;
      if (mode == ZSTD_e_continue && from.pos == from.size) break;
    }
    if (mode == ZSTD_e_end) {
      put_u32(table, static_cast<uint32_t>(frame_out));
      put_u32(table, static_cast<uint32_t>(frame_in));
      ++frames;
      frame_in = frame_out = 0;
    }
  }
  std::string seek_table;
  put_u32(seek_table, kSkippableMagic);
  put_u32(seek_table, static_cast<uint32_t>(table.size() + kFooterBytes));
  seek_table += table;
  put_u32(seek_table, frames);
  seek_table.push_back('\0');  // descriptor: no checksums in the table (the frames have theirs)
  put_u32(seek_table, kSeekableMagic);
  return write_all(out, seek_table);
}

}  // namespace

Status compress_file_seekable(const std::filesystem::path& input, const std::filesystem::path& output, int level,
                              size_t frame_bytes) {
  auto fail = [&](const std::string& what) {
    return make_error(fmt::format("cannot compress {} into {}: {}", input.string(), output.string(), what));
  };
  UniqueFd in(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return fail(errno_text(errno));
  std::filesystem::path temporary = output.string() + ".tmp";
  UniqueFd out(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return fail(errno_text(errno));
  Status written = write_frames(in.get(), out.get(), level, std::max<size_t>(frame_bytes, 1));
  if (written && ::close(out.release()) != 0) written = make_error(errno_text(errno));
  if (written && ::rename(temporary.c_str(), output.c_str()) != 0) written = make_error(errno_text(errno));
  if (!written) {
    ::unlink(temporary.c_str());
    return fail(written.error().message);
  }
  return {};
}

Result<SeekableZstdFile> SeekableZstdFile::open(const std::filesystem::path& path) {
  auto fail = [&](const std::string& what) {
    return make_error(fmt::format("{}: not a seekable zstd file: {}", path.string(), what));
  };
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(fmt::format("{}: cannot open: {}", path.string(), errno_text(errno)));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return make_error(fmt::format("{}: {}", path.string(), errno_text(errno)));
  uint64_t file_size = static_cast<uint64_t>(info.st_size);
  unsigned char footer[kFooterBytes];
  if (file_size < 8 + kFooterBytes) return fail("too short");
  auto got = read_at(fd.get(), footer, kFooterBytes, file_size - kFooterBytes);
  if (!got || *got != kFooterBytes) return fail("cannot read its footer");
  if (get_u32(footer + 5) != kSeekableMagic) return fail("no seek table");
  uint64_t count = get_u32(footer);
  uint64_t entry_bytes = (footer[4] & 0x80) ? 12 : 8;
  uint64_t table_bytes = 8 + count * entry_bytes + kFooterBytes;
  if (table_bytes > file_size) return fail("a seek table larger than the file");
  std::string table(table_bytes, '\0');
  got = read_at(fd.get(), table.data(), table_bytes, file_size - table_bytes);
  if (!got || *got != table_bytes) return fail("cannot read its seek table");
  const auto* bytes = reinterpret_cast<const unsigned char*>(table.data());
  if (get_u32(bytes) != kSkippableMagic || get_u32(bytes + 4) != table_bytes - 8) return fail("a broken seek table");
  SeekableZstdFile file(std::move(fd), path);
  uint64_t compressed = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const unsigned char* entry = bytes + 8 + i * entry_bytes;
    Frame frame{compressed, file.size_, get_u32(entry), get_u32(entry + 4)};
    if (frame.decompressed_size > kMaxFrameBytes) return fail(fmt::format("frame {} is over 64 MiB", i + 1));
    compressed += frame.compressed_size;
    file.size_ += frame.decompressed_size;
    file.frames_.push_back(frame);
  }
  if (compressed + table_bytes != file_size) return fail("its frames do not add up to its size");
  return file;
}

Result<std::string> SeekableZstdFile::frame(const Frame& frame) const {
  std::string packed(frame.compressed_size, '\0'), plain(frame.decompressed_size, '\0');
  auto got = read_at(fd_.get(), packed.data(), packed.size(), frame.compressed_offset);
  if (!got) return make_error(fmt::format("{}: cannot read: {}", path_.string(), got.error().message));
  if (*got != packed.size()) return make_error(fmt::format("{}: cut short", path_.string()));
  size_t size = ZSTD_decompress(plain.data(), plain.size(), packed.data(), packed.size());
  if (ZSTD_isError(size) || size != plain.size()) {
    return make_error(fmt::format("{}: a frame at byte {} does not decompress: {}", path_.string(),
                                  frame.compressed_offset,
                                  ZSTD_isError(size) ? ZSTD_getErrorName(size) : "a different size than its table says"));
  }
  return plain;
}

Result<std::string> SeekableZstdFile::read(uint64_t offset, uint64_t count) const {
  std::string out;
  uint64_t end = std::min(size_, offset + std::min(count, size_));
  // The first frame that ends after `offset`.
  auto first = std::upper_bound(frames_.begin(), frames_.end(), offset, [](uint64_t at, const Frame& frame) {
    return at < frame.decompressed_offset + frame.decompressed_size;
  });
  for (auto it = first; it != frames_.end() && it->decompressed_offset < end; ++it) {
    auto plain = frame(*it);
    if (!plain) return plain.error();
    uint64_t from = std::max(offset, it->decompressed_offset) - it->decompressed_offset;
    uint64_t to = std::min<uint64_t>(end - it->decompressed_offset, it->decompressed_size);
    out.append(*plain, from, to - from);
  }
  return out;
}

}  // namespace slipway
