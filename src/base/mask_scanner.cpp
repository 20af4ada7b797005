#include "base/mask_scanner.h"

#include <algorithm>

namespace slipway {

namespace {
constexpr std::string_view kMask = "***";
}

void MaskScanner::feed(std::string_view bytes, std::string& out) {
  if (automaton_.empty()) {
    out.append(bytes);
    return;
  }
  uint64_t base = position_;
  state_ = scan(bytes, base);
  position_ += bytes.size();
  emit_until(position_ - automaton_.depth(state_), bytes, base, out);
}

void MaskScanner::finish(std::string& out) {
  emit_until(position_, {}, position_, out);
  state_ = SecretMasker::Automaton::kStart;
}

// Alternates two modes. At the start state, the prefilter skips every position where no
// pattern can begin. From a position it lets through, the automaton runs byte by byte until it
// reaches a shallow state of depth d: then no pattern can still be under way that started
// before the last d bytes, so scanning goes back to the filter from there (re-examining those
// d bytes, at most 3, and only when that moves past where this run began, so it always
// progresses). The last bytes of a piece, too few for the filter, go through the automaton,
// whose state carries over to the next piece.
uint32_t MaskScanner::scan(std::string_view bytes, uint64_t base) {
  using Automaton = SecretMasker::Automaton;
  const Automaton::State* table = automaton_.table();
  const uint16_t* classes = automaton_.byte_classes();
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  Automaton::State state = state_;
  size_t i = 0;
  ptrdiff_t run_start = -1;  // where the automaton last started from the start state
  while (i < size) {
    if (Automaton::is_start(state)) {
      i = automaton_.next_candidate(data, i, size);
      if (i == size) break;
      run_start = static_cast<ptrdiff_t>(i);
    }
    state = table[(state & Automaton::kRowMask) + classes[data[i]]];
    ++i;
    if (state & Automaton::kMatchFlag) [[unlikely]] {
      uint64_t end = base + i;
      add_span(end - automaton_.match_length(state), end);
    }
    if (state & Automaton::kShallowFlag) {
      size_t depth = Automaton::shallow_depth(state);
      if (depth <= i && static_cast<ptrdiff_t>(i - depth) > run_start && i - depth + Automaton::kFilterBytes <= size) {
        i -= depth;
        state = Automaton::kStart;
      }
    }
  }
  return state;
}

// Matches arrive in order of their end; a longer one may start before earlier ones, so it
// swallows every pending span it overlaps.
void MaskScanner::add_span(uint64_t begin, uint64_t end) {
  while (!pending_.empty() && begin < pending_.back().end) {
    begin = std::min(begin, pending_.back().begin);
    end = std::max(end, pending_.back().end);
    pending_.pop_back();
  }
  pending_.push_back({begin, end});
}

// Writes out everything before `safe` (no later match can start before it). A span starting
// before `safe` is written whole, even the part past `safe`: its bytes are masked whatever
// comes next, and a later overlapping match only extends it (see mask_end_).
void MaskScanner::emit_until(uint64_t safe, std::string_view bytes, uint64_t base, std::string& out) {
  size_t done = 0;
  for (; done < pending_.size() && pending_[done].begin <= safe; ++done) {
    const Span& span = pending_[done];
    if (span.begin >= mask_end_) {
      copy_raw(emitted_, span.begin, bytes, base, out);
      out.append(kMask);
    }
    mask_end_ = std::max(mask_end_, span.end);
    emitted_ = std::max(emitted_, span.end);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(done));
  if (emitted_ < safe) {
    copy_raw(emitted_, safe, bytes, base, out);
    emitted_ = safe;
  }
  keep_unemitted(bytes, base);
}

// Bytes [from, to) of the stream, which lie in held_ (just before `base`) and/or `bytes`.
void MaskScanner::copy_raw(uint64_t from, uint64_t to, std::string_view bytes, uint64_t base,
                           std::string& out) const {
  uint64_t held_start = base - held_.size();
  if (from < base) {
    uint64_t stop = std::min(to, base);
    out.append(held_, from - held_start, stop - from);
    from = stop;
  }
  if (from < to) out.append(bytes.substr(from - base, to - from));
}

void MaskScanner::keep_unemitted(std::string_view bytes, uint64_t base) {
  uint64_t held_start = base - held_.size();
  if (emitted_ >= base) {
    held_.assign(bytes.substr(emitted_ - base));
  } else {
    held_.erase(0, emitted_ - held_start);
    held_.append(bytes);
  }
}

}  // namespace slipway
