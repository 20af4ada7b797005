// Utf8Sanitizer: the streaming form of sanitize_utf8 (base/strings.h), with the same result
// however the bytes are split: every byte that does not belong to a valid UTF-8 sequence
// becomes U+FFFD. A sequence cut by the end of a piece is held (at most 3 bytes) until the
// next piece completes or breaks it.
//
// Most output is ASCII, so the fast path checks 8 bytes at a time and, when a piece is clean,
// hands it back as it is, without copying.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace slipway {

class Utf8Sanitizer {
 public:
  // The cleaned bytes of this piece: `bytes` itself when nothing needed changing, else a view
  // of `scratch`. Valid until the next call.
  std::string_view feed(std::string_view bytes, std::string& scratch);
  // The held bytes of an unfinished sequence, each as U+FFFD.
  std::string_view finish(std::string& scratch);

 private:
  size_t complete_held(std::string_view bytes, std::string& out);

  unsigned char held_[4] = {};
  size_t held_size_ = 0;
};

}  // namespace slipway
