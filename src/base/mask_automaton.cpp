#include "base/mask_automaton.h"

#include <algorithm>
#include <queue>
#include <stdexcept>

namespace slipway {

SecretMasker::Automaton::Automaton(const std::vector<std::string>& patterns) {
  // Class 0 stands for every byte that no pattern contains; each other byte gets its own.
  std::array<bool, 256> used{};
  for (const auto& pattern : patterns) {
    for (unsigned char c : pattern) used[c] = true;
  }
  for (size_t byte = 0; byte < 256; ++byte) {
    if (used[byte]) byte_class_[byte] = static_cast<uint16_t>(class_count_++);
  }
  add_state(0);
  for (const auto& pattern : patterns) insert(pattern);
  link_failures();
  mark_states();
  fill_filter(patterns);
}

SecretMasker::Automaton::State SecretMasker::Automaton::add_state(uint32_t depth) {
  size_t row = table_.size();
  if (row + class_count_ > kRowMask) {
    throw std::length_error("secret masker: too many secret bytes for one automaton");
  }
  table_.resize(row + class_count_, kMissing);
  depth_.push_back(depth);
  match_length_.push_back(0);
  return static_cast<State>(row);
}

void SecretMasker::Automaton::insert(const std::string& pattern) {
  if (pattern.empty()) return;
  State state = kStart;
  uint32_t depth = 0;
  for (unsigned char c : pattern) {
    ++depth;
    State& slot = table_[state + byte_class_[c]];
    if (slot == kMissing) {
      State created = add_state(depth);  // may reallocate the table: no reference kept across
      table_[state + byte_class_[c]] = created;
      state = created;
    } else {
      state = slot;
    }
  }
  auto& length = match_length_[number(state)];
  length = std::max<uint32_t>(length, depth);
  longest_ = std::max(longest_, pattern.size());
}

// Breadth-first, so that a state's failure target (always shallower) is complete before the
// state itself: missing transitions then copy the failure target's, and each state inherits
// the longest match of its failure chain. Masking only needs the longest match ending at a
// position, since every shorter one ending there lies inside it.
void SecretMasker::Automaton::link_failures() {
  std::vector<State> failure(depth_.size(), kStart);
  std::queue<State> pending;
  for (uint32_t c = 0; c < class_count_; ++c) {
    State& slot = table_[kStart + c];
    if (slot == kMissing) {
      slot = kStart;
    } else {
      pending.push(slot);
    }
  }
  while (!pending.empty()) {
    State state = pending.front();
    pending.pop();
    State fail = failure[number(state)];
    auto& length = match_length_[number(state)];
    length = std::max(length, match_length_[number(fail)]);
    for (uint32_t c = 0; c < class_count_; ++c) {
      State& slot = table_[state + c];
      if (slot == kMissing) {
        slot = table_[fail + c];
      } else {
        failure[number(slot)] = table_[fail + c];
        pending.push(slot);
      }
    }
  }
}

// Tags every transition with what the scanner needs to know about its target without another
// lookup: whether a pattern ends there, and the depth of a shallow state.
void SecretMasker::Automaton::mark_states() {
  for (State& slot : table_) {
    size_t target = number(slot);
    if (match_length_[target] > 0) slot |= kMatchFlag;
    if (depth_[target] < kFilterBytes) slot |= kShallowFlag | (depth_[target] << kDepthShift);
  }
}

// A pattern shorter than the filter's window could start anywhere: then every bit is set and
// the filter lets every position through (correct, only slower; the masker never does this).
void SecretMasker::Automaton::fill_filter(const std::vector<std::string>& patterns) {
  filter_.assign(kFilterBits / 64, 0);
  for (const auto& pattern : patterns) {
    if (pattern.empty()) continue;
    if (pattern.size() < kFilterBytes) {
      filter_.assign(kFilterBits / 64, ~uint64_t{0});
      return;
    }
    size_t bit = filter_bit(reinterpret_cast<const unsigned char*>(pattern.data()));
    filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

}  // namespace slipway
