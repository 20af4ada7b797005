// LogStreamPipeline: the path of one output stream (stdout, stderr, or Slipway's own lines)
// from raw bytes to records: mask secrets → replace invalid UTF-8 → split into lines. The order
// matters: masking sees the raw bytes across pipe reads, before any split could hide a secret,
// and U+FFFD replacement cannot break a secret's bytes apart before the masker sees them.
//
// Input is processed in slices of kSliceBytes, so a 10 MB write costs no more memory than a
// 64 KiB one: each stage holds at most its small carry-over (masking hold-back, a partial UTF-8
// sequence, one unfinished line).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/secret_masker.h"
#include "ci/log_line_assembler.h"
#include "ci/utf8_sanitizer.h"

namespace slipway {

class LogStreamPipeline {
 public:
  static constexpr size_t kSliceBytes = 64 * 1024;

  // `masker` may be null or empty: the bytes then pass unmasked.
  LogStreamPipeline(char stream, size_t max_line_bytes, const std::shared_ptr<const SecretMasker>& masker);

  void feed(std::string_view bytes, LogRecordSink& sink);
  // Flushes every stage: the masking hold-back, a partial UTF-8 sequence, the unfinished line.
  void finish(LogRecordSink& sink);

 private:
  void feed_slice(std::string_view bytes, LogRecordSink& sink);
  void clean_and_split(std::string_view masked, LogRecordSink& sink);

  std::unique_ptr<MaskingStream> masking_;
  Utf8Sanitizer utf8_;
  LogLineAssembler lines_;
  std::string masked_;  // scratch buffers, reused so the steady state allocates nothing
  std::string clean_;
};

}  // namespace slipway
