#include "base/masked_tail.h"

#include <utility>

namespace slipway {

MaskedTail::MaskedTail(std::shared_ptr<const SecretMasker> masker, size_t limit)
    : masker_(std::move(masker)), limit_(limit) {
  clear();
}

void MaskedTail::add(std::string_view bytes) {
  if (!stream_) {
    keep(bytes);
    return;
  }
  scratch_.clear();
  stream_->feed(bytes, scratch_);
  keep(scratch_);
}

const std::string& MaskedTail::text() {
  if (stream_) {
    scratch_.clear();
    stream_->finish(scratch_);
    keep(scratch_);
  }
  if (tail_.size() > limit_) tail_.erase(0, tail_.size() - limit_);
  return tail_;
}

void MaskedTail::clear() {
  tail_.clear();
  stream_.reset();
  if (masker_ && !masker_->empty()) stream_.emplace(masker_);
}

// Trimmed in steps of `limit` rather than on every add, so a stream of small pieces is not
// copied over and over.
void MaskedTail::keep(std::string_view masked) {
  tail_.append(masked);
  if (tail_.size() > 2 * limit_) tail_.erase(0, tail_.size() - limit_);
}

}  // namespace slipway
