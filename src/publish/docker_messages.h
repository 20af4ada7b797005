// DockerMessages: reads the stream of JSON messages the Docker Engine answers /build and
// /images/create with ({"stream": ...}, {"status": ...}, {"aux": {"ID": ...}}, {"error": ...}),
// chunk by chunk as it arrives, and turns it into log lines, the image id and the error, if any.
// Never fails: text that is not a message is passed on as a line.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace slipway {

class DockerMessages {
 public:
  using LineSink = std::function<void(std::string_view line)>;
  explicit DockerMessages(LineSink on_line) : on_line_(std::move(on_line)) {}

  // Any slice of the answer's body; messages split across chunks are put back together.
  void feed(std::string_view chunk);
  // The end of the body: passes on what is left of an unfinished line.
  void finish();

  // The daemon's error message ("COPY failed: ..."), "" when none came.
  const std::string& error() const { return error_; }
  // The image id the build announced ("sha256:..."), from aux.ID or "Successfully built".
  const std::string& image_id() const { return image_id_; }
  // The last "Step N/M : INSTRUCTION" line, which names where a failed build stopped.
  const std::string& last_step() const { return last_step_; }
  // The last status text ("sha256:..." for an import), "" when none came.
  const std::string& last_status() const { return last_status_; }

 private:
  void handle_message(std::string_view text);
  void add_stream_text(std::string_view text);
  void flush_stream_text();
  void stream_line(std::string_view line);
  void emit(std::string_view line);

  LineSink on_line_;
  std::string pending_;       // bytes of an incomplete message
  std::string stream_text_;   // "stream" text of an incomplete line
  std::string error_;
  std::string image_id_;
  std::string last_step_;
  std::string last_status_;
};

}  // namespace slipway
