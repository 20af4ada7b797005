#include "ci/log_line_assembler.h"

#include <cctype>
#include <cstring>

namespace slipway {

namespace {
bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

void LogLineAssembler::feed(std::string_view bytes, LogRecordSink& sink) {
  while (!bytes.empty()) {
    const void* newline = std::memchr(bytes.data(), '\n', bytes.size());
    if (newline == nullptr) {
      append(bytes, sink);
      return;
    }
    size_t length = static_cast<size_t>(static_cast<const char*>(newline) - bytes.data());
    std::string_view line = bytes.substr(0, length);
    if (line_.empty() && line.size() <= max_bytes_) {
      sink.on_record(stream_, line);  // the common case: no copy
    } else {
      append(line, sink);
      sink.on_record(stream_, line_);
      line_.clear();
    }
    bytes.remove_prefix(length + 1);
  }
}

void LogLineAssembler::finish(LogRecordSink& sink) {
  if (line_.empty()) return;
  sink.on_record(stream_, line_);
  line_.clear();
}

// Where to cut `text` (max_bytes_ long, followed by the byte `next`) so that no UTF-8 sequence
// is split: back up over continuation bytes to the start of the sequence they belong to.
size_t LogLineAssembler::cut_point(std::string_view text, unsigned char next) const {
  size_t cut = text.size();
  unsigned char after = next;
  while (cut > 0 && text.size() - cut < 3 && is_continuation(after)) {
    --cut;
    after = static_cast<unsigned char>(text[cut]);
  }
  return cut > 0 ? cut : text.size();  // not UTF-8 after all: cut anywhere rather than loop
}

// Adds `part` to the unfinished line, sending out continued pieces whenever it would pass
// max_bytes_. The piece that stays is never empty once a cut happened, so the last record of
// a cut line is always the unmarked one.
void LogLineAssembler::append(std::string_view part, LogRecordSink& sink) {
  const char continued = static_cast<char>(std::toupper(static_cast<unsigned char>(stream_)));
  while (line_.size() + part.size() > max_bytes_) {
    if (line_.empty()) {
      size_t cut = cut_point(part.substr(0, max_bytes_), static_cast<unsigned char>(part[max_bytes_]));
      sink.on_record(continued, part.substr(0, cut));
      part.remove_prefix(cut);
      continue;
    }
    size_t take = max_bytes_ - line_.size();
    line_.append(part.substr(0, take));
    part.remove_prefix(take);
    size_t cut = cut_point(line_, static_cast<unsigned char>(part[0]));
    sink.on_record(continued, std::string_view(line_).substr(0, cut));
    line_.erase(0, cut);
  }
  line_.append(part);
}

}  // namespace slipway
