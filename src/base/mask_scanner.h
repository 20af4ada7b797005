// MaskScanner: runs the secret automaton over a stream fed in pieces and writes it out with
// every match replaced by "***" (overlapping matches as one). Positions are counted over the
// whole stream, so a secret split across two pieces is found like any other.
//
// Bytes leave as soon as no secret can still cover them: the automaton's depth says how many
// trailing bytes are a prefix of some pattern, and only those are held back (fewer than the
// longest pattern). A masked span whose "***" is out keeps absorbing later overlapping matches
// without holding their bytes, so memory stays bounded even for long chains of overlaps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/mask_automaton.h"

namespace slipway {

class MaskScanner {
 public:
  explicit MaskScanner(const SecretMasker::Automaton& automaton) : automaton_(automaton) {}

  // Appends to `out` the masked bytes that are safe to emit now.
  void feed(std::string_view bytes, std::string& out);
  // Appends everything held back and starts afresh (a secret cannot span a finish()).
  void finish(std::string& out);

 private:
  struct Span {
    uint64_t begin;  // stream positions, end exclusive
    uint64_t end;
  };

  uint32_t scan(std::string_view bytes, uint64_t base);
  void add_span(uint64_t begin, uint64_t end);
  void emit_until(uint64_t safe, std::string_view bytes, uint64_t base, std::string& out);
  void copy_raw(uint64_t from, uint64_t to, std::string_view bytes, uint64_t base, std::string& out) const;
  void keep_unemitted(std::string_view bytes, uint64_t base);

  const SecretMasker::Automaton& automaton_;
  SecretMasker::Automaton::State state_ = SecretMasker::Automaton::kStart;
  uint64_t position_ = 0;   // bytes fed so far
  uint64_t emitted_ = 0;    // bytes before this position are written out (raw or masked)
  uint64_t mask_end_ = 0;   // end of the last span whose "***" is written out
  std::string held_;        // raw bytes [emitted_, position_)
  std::vector<Span> pending_;  // found, not yet written; sorted and disjoint
};

}  // namespace slipway
