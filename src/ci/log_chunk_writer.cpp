#include "ci/log_chunk_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "ci/log_chunk_file.h"
#include "ci/log_format.h"

namespace slipway {

Result<std::unique_ptr<LogChunkWriter>> LogChunkWriter::open(const std::filesystem::path& directory,
                                                             size_t chunk_bytes) {
  if (auto made = make_directories(directory); !made) return made.error();
  auto chunks = list_log_chunks(directory);
  if (!chunks) return chunks.error();
  uint64_t next = chunks->empty() ? 1 : chunks->back().number + 1;
  return std::unique_ptr<LogChunkWriter>(new LogChunkWriter(directory, chunk_bytes, next));
}

LogChunkWriter::LogChunkWriter(std::filesystem::path directory, size_t chunk_bytes, uint64_t next_number)
    : directory_(std::move(directory)), chunk_bytes_(chunk_bytes), next_number_(next_number) {
  buffer_.reserve(kBufferBytes);
}

LogChunkWriter::~LogChunkWriter() {
  (void)close();  // best effort: the owner reports errors through close()
}

Status LogChunkWriter::append(std::string_view timestamp, char stream, std::string_view text) {
  size_t size = timestamp.size() + text.size() + 4;
  if (fd_ >= 0 && chunk_size_ > 0 && chunk_size_ + size > chunk_bytes_) {
    if (auto closed = close_chunk(); !closed) return closed;
  }
  if (fd_ < 0) {
    if (auto started = start_chunk(); !started) return started;
  }
  if (buffer_.size() + size > kBufferBytes) {
    if (auto flushed = flush(); !flushed) return flushed;
  }
  append_record(buffer_, timestamp, stream, text);
  chunk_size_ += size;
  return {};
}

Status LogChunkWriter::start_chunk() {
  current_path_ = directory_ / chunk_file_name(next_number_);
  // The server's user alone, as every file of the data directory: a step prints what it likes.
  fd_ = ::open(current_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return make_error(fmt::format("{}: cannot create log chunk: {}", current_path_.string(), errno_text(errno)));
  }
  ++next_number_;
  chunk_size_ = 0;
  return {};
}

Status LogChunkWriter::flush() {
  size_t written = 0;
  while (written < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buffer_.clear();
      return make_error(fmt::format("{}: cannot write log chunk: {}", current_path_.string(), errno_text(errno)));
    }
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
  return {};
}

Status LogChunkWriter::close_chunk() {
  if (fd_ < 0) return {};
  Status flushed = flush();
  int result = ::close(fd_);
  fd_ = -1;
  if (!flushed) return flushed;
  if (result != 0) {
    return make_error(fmt::format("{}: cannot close log chunk: {}", current_path_.string(), errno_text(errno)));
  }
  if (chunk_size_ >= kCompressChunkMinBytes) compress_in_background(current_path_, next_number_ - 1);
  return {};
}

Status LogChunkWriter::close() {
  Status closed = close_chunk();
  wait_for_compression();
  return closed;
}

// One thread at a time works through the queue and ends when it is empty; the next closed chunk
// starts another. A chunk is at least a megabyte of output, so a thread per burst costs nothing.
void LogChunkWriter::compress_in_background(std::filesystem::path chunk, uint64_t number) {
  std::lock_guard lock(mutex_);
  queued_.emplace_back(std::move(chunk), number);
  if (queued_.size() > 1) return;  // the running thread will take it
  if (compressor_.joinable()) compressor_.join();  // it ended when the queue emptied
  compressor_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!queued_.empty()) {
      auto [path, number] = queued_.front();
      lock.unlock();
      if (Status packed = compress_log_chunk(path, number); !packed) {
        spdlog::warn("log chunk left uncompressed: {}", packed.error().message);
      }
      lock.lock();
      queued_.pop_front();
    }
  });
}

void LogChunkWriter::wait_for_compression() {
  std::unique_lock lock(mutex_);
  if (!compressor_.joinable()) return;
  std::thread finishing = std::move(compressor_);
  lock.unlock();
  finishing.join();
}

}  // namespace slipway
