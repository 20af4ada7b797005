#include "ci/log_stream_pipeline.h"

namespace slipway {

LogStreamPipeline::LogStreamPipeline(char stream, size_t max_line_bytes,
                                     const std::shared_ptr<const SecretMasker>& masker)
    : lines_(stream, max_line_bytes) {
  if (masker && !masker->empty()) masking_ = std::make_unique<MaskingStream>(masker);
}

void LogStreamPipeline::feed(std::string_view bytes, LogRecordSink& sink) {
  while (!bytes.empty()) {
    std::string_view slice = bytes.substr(0, kSliceBytes);
    feed_slice(slice, sink);
    bytes.remove_prefix(slice.size());
  }
}

void LogStreamPipeline::feed_slice(std::string_view bytes, LogRecordSink& sink) {
  if (!masking_) {
    clean_and_split(bytes, sink);
    return;
  }
  masked_.clear();
  masking_->feed(bytes, masked_);
  clean_and_split(masked_, sink);
}

void LogStreamPipeline::clean_and_split(std::string_view masked, LogRecordSink& sink) {
  lines_.feed(utf8_.feed(masked, clean_), sink);
}

void LogStreamPipeline::finish(LogRecordSink& sink) {
  if (masking_) {
    masked_.clear();
    masking_->finish(masked_);
    clean_and_split(masked_, sink);
  }
  lines_.feed(utf8_.finish(clean_), sink);
  lines_.finish(sink);
}

}  // namespace slipway
