// DockerStreamDemuxer: splits the Engine's multiplexed stdout/stderr stream (the body of
// /containers/{id}/logs and /attach for a container without a TTY) back into lines. Each frame is
// an 8-byte header — stream type, three zero bytes, a big-endian payload length — then the
// payload; frames and lines may be cut anywhere between network chunks, so it buffers both.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace slipway {

enum class LogStream { out, err };

class DockerStreamDemuxer {
 public:
  // Gets each complete line without its '\n' (a trailing '\r' is dropped too).
  using LineHandler = std::function<void(LogStream stream, std::string_view line)>;

  explicit DockerStreamDemuxer(LineHandler on_line);

  void feed(std::string_view chunk);

  // Passes on the unterminated last line of each stream, if any (call when the body ended).
  void finish();

 private:
  void take_payload(std::string_view payload);
  void emit_lines(LogStream stream, std::string& pending);

  LineHandler on_line_;
  std::string header_;           // the header bytes of the current frame received so far
  uint32_t payload_left_ = 0;    // payload bytes of the current frame still to come
  LogStream current_ = LogStream::out;
  std::string out_pending_;      // stdout text after its last '\n'
  std::string err_pending_;
};

}  // namespace slipway
