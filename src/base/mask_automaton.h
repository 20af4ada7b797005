// SecretMasker::Automaton: an Aho–Corasick automaton over bytes, compiled once into a dense
// transition table so that scanning costs one table load per byte, whatever the number of
// secrets. Bytes that occur in no pattern share one column (byte classes), which keeps the
// table at states × (distinct pattern bytes + 1) × 4 bytes: about 5 MB for 100 secrets of 40
// characters with all their encodings. The trade-off against a sparse trie is memory for speed;
// the table is built once per job and shared by every stream.
//
// A state is a row offset into the table with flags in its top bits: one marks states where a
// pattern ends, so the scanning loop tests one bit and only looks further on a match; another
// marks shallow states (depth 0 to 3) and carries their depth.
//
// Scanning one table load per byte is bound by memory latency (each load waits for the last),
// so a prefilter does most of the work: every pattern is at least 4 bytes long, and a bitmap of
// the hashed first 4 bytes of all patterns (8 KiB, stays in L1) rules out nearly every position
// as the start of a match with independent loads. The automaton only runs from positions the
// filter lets through, until it is back in a shallow state (see MaskScanner::scan).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/secret_masker.h"

namespace slipway {

struct SecretMasker::Automaton {
  using State = uint32_t;
  static constexpr State kStart = 0;
  static constexpr State kMatchFlag = 0x8000'0000u;
  static constexpr State kShallowFlag = 0x4000'0000u;  // depth < kFilterBytes
  static constexpr int kDepthShift = 28;               // where a shallow state's depth sits
  static constexpr State kRowMask = 0x0FFF'FFFFu;
  static constexpr size_t kFilterBytes = 4;

  explicit Automaton(const std::vector<std::string>& patterns);

  State next(State state, unsigned char byte) const {
    return table_[(state & kRowMask) + byte_class_[byte]];
  }
  static bool is_start(State state) { return (state & kRowMask) == kStart; }
  // The depth of a state carrying kShallowFlag, without a table lookup.
  static uint32_t shallow_depth(State state) { return (state >> kDepthShift) & 3; }

  // The first position from `at` where a pattern may start, by the prefilter; a position
  // with fewer than kFilterBytes bytes left when none is found before.
  size_t next_candidate(const unsigned char* data, size_t at, size_t size) const;
  // Length of the longest pattern prefix that `state` has read: bytes that may still turn out
  // to be part of a secret and must be held back.
  uint32_t depth(State state) const { return depth_[number(state)]; }
  // Length of the longest pattern ending at `state`; 0 when none does.
  uint32_t match_length(State state) const { return match_length_[number(state)]; }

  bool empty() const { return longest_ == 0; }
  size_t longest() const { return longest_; }
  size_t state_count() const { return depth_.size(); }

  // For the hot loop: the raw table and classes (see next()).
  const State* table() const { return table_.data(); }
  const uint16_t* byte_classes() const { return byte_class_.data(); }

 private:
  static constexpr State kMissing = 0xFFFF'FFFFu;
  static constexpr int kFilterLog2 = 16;  // 8 KiB: measured a little faster than 4 or 32 KiB
  static constexpr size_t kFilterBits = size_t{1} << kFilterLog2;
  static size_t filter_bit(const unsigned char* bytes);
  size_t number(State state) const { return (state & kRowMask) / class_count_; }
  State add_state(uint32_t depth);
  void insert(const std::string& pattern);
  void link_failures();
  void mark_states();
  void fill_filter(const std::vector<std::string>& patterns);

  std::array<uint16_t, 256> byte_class_{};
  uint32_t class_count_ = 1;
  std::vector<State> table_;
  std::vector<uint32_t> depth_;
  std::vector<uint32_t> match_length_;
  size_t longest_ = 0;
  std::vector<uint64_t> filter_;  // kFilterBits bits
};

inline size_t SecretMasker::Automaton::filter_bit(const unsigned char* bytes) {
  uint32_t word;
  __builtin_memcpy(&word, bytes, sizeof word);
  return (word * 0x9E37'79B1u) >> (32 - kFilterLog2);
}

inline size_t SecretMasker::Automaton::next_candidate(const unsigned char* data, size_t at, size_t size) const {
  const uint64_t* filter = filter_.data();
  for (; at + kFilterBytes <= size; ++at) {
    size_t bit = filter_bit(data + at);
    if ((filter[bit >> 6] >> (bit & 63)) & 1) return at;
  }
  return at;
}

}  // namespace slipway
