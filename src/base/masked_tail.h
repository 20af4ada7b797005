// MaskedTail: the last `limit` bytes of a stream, for an error message that quotes what a command
// printed (a readiness probe, deploy.verify). Bytes are masked on the way in, before anything is
// cut: a cut made first could leave the end of a secret at the start of the tail, where no form
// of it matches any more — and a command choosing its padding could choose which end.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/secret_masker.h"

namespace slipway {

class MaskedTail {
 public:
  // `masker` may be null or empty: bytes are then kept as they come.
  MaskedTail(std::shared_ptr<const SecretMasker> masker, size_t limit);

  void add(std::string_view bytes);
  // The tail so far (at most `limit` bytes, masked), the bytes the masker held back included. A
  // secret cannot span a text() call: call it once the stream is over.
  const std::string& text();
  // Forgets everything, for a new stream.
  void clear();

 private:
  void keep(std::string_view masked);

  std::shared_ptr<const SecretMasker> masker_;
  size_t limit_;
  std::optional<MaskingStream> stream_;
  std::string scratch_;
  std::string tail_;
};

}  // namespace slipway
