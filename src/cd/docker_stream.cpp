#include "cd/docker_stream.h"

#include <algorithm>

#include "base/strings.h"

namespace slipway {

namespace {

constexpr size_t kHeaderSize = 8;

}  // namespace

DockerStreamDemuxer::DockerStreamDemuxer(LineHandler on_line) : on_line_(std::move(on_line)) {}

void DockerStreamDemuxer::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    if (payload_left_ > 0) {
      size_t take = std::min<size_t>(payload_left_, chunk.size());
      take_payload(chunk.substr(0, take));
      payload_left_ -= static_cast<uint32_t>(take);
      chunk.remove_prefix(take);
      continue;
    }
    size_t take = std::min(kHeaderSize - header_.size(), chunk.size());
    header_.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (header_.size() < kHeaderSize) return;
    auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(header_[i])); };
    // Type 2 is stderr; 0 (stdin) and 1 (stdout) are read as stdout.
    current_ = byte(0) == 2 ? LogStream::err : LogStream::out;
    payload_left_ = (byte(4) << 24) | (byte(5) << 16) | (byte(6) << 8) | byte(7);
    header_.clear();
  }
}

void DockerStreamDemuxer::take_payload(std::string_view payload) {
  std::string& pending = current_ == LogStream::err ? err_pending_ : out_pending_;
  pending.append(payload);
  emit_lines(current_, pending);
}

void DockerStreamDemuxer::emit_lines(LogStream stream, std::string& pending) {
  take_complete_lines(pending, [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line_(stream, line);
  });
}

void DockerStreamDemuxer::finish() {
  if (!out_pending_.empty()) on_line_(LogStream::out, out_pending_);
  if (!err_pending_.empty()) on_line_(LogStream::err, err_pending_);
  out_pending_.clear();
  err_pending_.clear();
}

}  // namespace slipway
