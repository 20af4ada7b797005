// LogLineAssembler: turns one stream's clean (masked, valid UTF-8) bytes into log records.
// A newline ends a record; a line longer than `max_bytes` is cut into records of at most
// `max_bytes`, never inside a UTF-8 sequence, and each piece but the last is marked continued
// by an upper-case stream letter. Only an unfinished line is buffered, so memory is bounded by
// `max_bytes` whatever the line's length; complete lines go out as views of the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace slipway {

class LogRecordSink {
 public:
  virtual ~LogRecordSink() = default;
  // `stream` is 'o', 'e' or 's', upper-case for a continued piece; `text` has no newline.
  virtual void on_record(char stream, std::string_view text) = 0;
};

class LogLineAssembler {
 public:
  LogLineAssembler(char stream, size_t max_bytes) : stream_(stream), max_bytes_(max_bytes) {}

  void feed(std::string_view bytes, LogRecordSink& sink);
  // Emits the unfinished line, if any, as a final record.
  void finish(LogRecordSink& sink);
  size_t buffered() const { return line_.size(); }

 private:
  void append(std::string_view part, LogRecordSink& sink);
  size_t cut_point(std::string_view text, unsigned char next) const;

  char stream_;
  size_t max_bytes_;
  std::string line_;  // the unfinished line, at most max_bytes_
};

}  // namespace slipway
