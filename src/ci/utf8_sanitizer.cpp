#include "ci/utf8_sanitizer.h"

#include <cstdint>
#include <cstring>

namespace slipway {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr int kIncomplete = -1;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t sequence_length_from_lead(unsigned char c) {
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 0;
}

// The length of the valid sequence starting at p (n bytes available), 0 when it is invalid,
// kIncomplete when the available bytes are a consistent start that n cuts short. Overlong
// forms, surrogates and code points past U+10FFFF are invalid, as in sanitize_utf8.
int sequence_length(const unsigned char* p, size_t n) {
  size_t length = sequence_length_from_lead(p[0]);
  if (length == 0) return 0;
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  uint32_t code = p[0] & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if (k >= n) return kIncomplete;
    if (!is_continuation(p[k])) return 0;
    code = (code << 6) | (p[k] & 0x3F);
  }
  if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return static_cast<int>(length);
}

// Index of the first byte at or after `i` with the high bit set, or n.
size_t skip_ascii(const unsigned char* p, size_t i, size_t n) {
  while (i + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080'8080'8080'8080ull) break;
    i += 8;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

// Completes a sequence held from the previous piece with this piece's continuation bytes.
// Returns how many bytes of `bytes` it used.
size_t Utf8Sanitizer::complete_held(std::string_view bytes, std::string& out) {
  size_t used = 0;
  size_t length = sequence_length_from_lead(held_[0]);
  while (held_size_ < length && used < bytes.size() &&
         is_continuation(static_cast<unsigned char>(bytes[used]))) {
    held_[held_size_++] = static_cast<unsigned char>(bytes[used++]);
  }
  if (held_size_ < length && used == bytes.size()) return used;  // still unfinished
  if (sequence_length(held_, held_size_) == static_cast<int>(held_size_)) {
    out.append(reinterpret_cast<const char*>(held_), held_size_);
  } else {
    // The lead is invalid and so is each continuation byte after it, one U+FFFD apiece.
    for (size_t k = 0; k < held_size_; ++k) out.append(kReplacement);
  }
  held_size_ = 0;
  return used;
}

std::string_view Utf8Sanitizer::feed(std::string_view bytes, std::string& scratch) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  scratch.clear();
  size_t i = held_size_ > 0 ? complete_held(bytes, scratch) : 0;
  if (held_size_ > 0) return scratch;  // the whole piece went into the held sequence
  bool copying = !scratch.empty();
  size_t run = i;  // start of the valid bytes not yet copied
  while (true) {
    i = skip_ascii(p, i, n);
    if (i == n) break;
    int length = sequence_length(p + i, n - i);
    if (length > 0) {
      i += static_cast<size_t>(length);
      continue;
    }
    if (length == kIncomplete) {
      held_size_ = n - i;
      std::memcpy(held_, p + i, held_size_);
      n = i;
      break;
    }
    scratch.append(bytes.substr(run, i - run));
    scratch.append(kReplacement);
    copying = true;
    run = ++i;
  }
  if (!copying) return bytes.substr(run, n - run);
  scratch.append(bytes.substr(run, n - run));
  return scratch;
}

std::string_view Utf8Sanitizer::finish(std::string& scratch) {
  scratch.clear();
  for (size_t k = 0; k < held_size_; ++k) scratch.append(kReplacement);
  held_size_ = 0;
  return scratch;
}

}  // namespace slipway
