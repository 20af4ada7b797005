#include "ci/step_log.h"

#include <mutex>

#include <fmt/core.h>

#include "base/strings.h"
#include "base/time.h"
#include "ci/log_chunk_writer.h"
#include "ci/log_format.h"
#include "ci/log_stream_pipeline.h"

namespace slipway {

// Receives every finished record of the three streams, in the order they finish: stamps it,
// writes it to the chunk files and hands it to the tail and the listener.
struct StepLog::Impl final : LogRecordSink {
  Impl(std::unique_ptr<LogChunkWriter> writer, std::shared_ptr<const SecretMasker> masker,
       LogListener* listener, uint64_t max_bytes)
      : writer(std::move(writer)),
        masker(std::move(masker)),
        listener(listener),
        max_bytes(max_bytes),
        out('o', kMaxLineBytes, this->masker),
        err('e', kMaxLineBytes, this->masker) {}

  void on_record(char stream, std::string_view text) override;
  void write_record(char stream, std::string_view text);
  void truncate(size_t dropped_now);
  void remember(std::string_view text);
  // After the records of one read: out to the files (live views read them) and the listener.
  void end_batch() {
    if (disk_status) disk_status = writer->flush();
    if (listener) listener->on_batch_end();
  }

  std::unique_ptr<LogChunkWriter> writer;
  std::shared_ptr<const SecretMasker> masker;
  LogListener* listener;
  uint64_t max_bytes;
  LogStreamPipeline out;
  LogStreamPipeline err;
  TimestampCache timestamps;
  // Bytes from one pipe read arrived together: one clock reading per call, not per line.
  int64_t arrival_ms = 0;
  Status disk_status;  // the first write error; later records still reach tail and listener
  bool closed = false;
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t stored = 0;   // record bytes on disk, as the chunk writer counts them
  bool truncated = false;
  uint64_t dropped = 0;
  std::deque<std::string> tail;
  // A service's output thread and the job's thread (its "is ready" lines) write at once.
  std::mutex mutex;
};

// The step's own output counts against max_bytes; Slipway's lines ('s') always get through.
void StepLog::Impl::on_record(char stream, std::string_view text) {
  if (stream != 's' && (truncated || stored + kRecordOverhead + text.size() > max_bytes)) {
    if (!truncated) truncate(text.size() + 1);
    else dropped += text.size() + 1;
    return;
  }
  write_record(stream, text);
}

void StepLog::Impl::truncate(size_t dropped_now) {
  truncated = true;
  dropped += dropped_now;
  write_record('s', fmt::format("log truncated: max_log_bytes ({}) reached; further output of this step is "
                                "dropped (the step keeps running)", format_byte_size(max_bytes)));
}

void StepLog::Impl::write_record(char stream, std::string_view text) {
  ++lines;
  bytes += text.size();
  std::string_view timestamp = timestamps.format(arrival_ms);
  stored += kRecordOverhead + text.size();
  if (disk_status) disk_status = writer->append(timestamp, stream, text);
  remember(text);
  if (listener) listener->on_line(LogLine{arrival_ms, stream, text});
}

// Recycles the oldest string of the tail, so the steady state allocates nothing per line.
void StepLog::Impl::remember(std::string_view text) {
  if (tail.size() < kTailLines) {
    tail.emplace_back(text);
    return;
  }
  std::string recycled = std::move(tail.front());
  tail.pop_front();
  recycled.assign(text);
  tail.push_back(std::move(recycled));
}

Result<std::unique_ptr<StepLog>> StepLog::create(const std::filesystem::path& directory,
                                                 std::shared_ptr<const SecretMasker> masker,
                                                 LogListener* listener, size_t chunk_bytes, uint64_t max_bytes) {
  auto writer = LogChunkWriter::open(directory, chunk_bytes);
  if (!writer) return writer.error();
  auto impl = std::make_unique<Impl>(std::move(*writer), std::move(masker), listener, max_bytes);
  return std::unique_ptr<StepLog>(new StepLog(std::move(impl)));
}

StepLog::StepLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StepLog::~StepLog() { (void)close(); }

void StepLog::on_output(OutputStream stream, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed || bytes.empty()) return;
  if (impl_->truncated) {  // dropped unread: no masking, no line splitting, no memory
    impl_->dropped += bytes.size();
    return;
  }
  impl_->arrival_ms = now_ms();
  auto& pipeline = stream == OutputStream::out ? impl_->out : impl_->err;
  pipeline.feed(bytes, *impl_);
  impl_->end_batch();
}

void StepLog::write_system_line(std::string_view text) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed) return;
  impl_->arrival_ms = now_ms();
  // A fresh pipeline per call: the line is complete, so nothing carries over to the next one.
  LogStreamPipeline system('s', kMaxLineBytes, impl_->masker);
  system.feed(text, *impl_);
  system.finish(*impl_);
  impl_->end_batch();
}

Status StepLog::close() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed) return impl_->disk_status;
  impl_->arrival_ms = now_ms();
  impl_->out.finish(*impl_);
  impl_->err.finish(*impl_);
  if (impl_->listener) impl_->listener->on_batch_end();
  impl_->closed = true;
  Status closed = impl_->writer->close();
  if (impl_->disk_status && !closed) impl_->disk_status = closed;
  return impl_->disk_status;
}

uint64_t StepLog::line_count() const { return impl_->lines; }

uint64_t StepLog::byte_count() const { return impl_->bytes; }

const std::deque<std::string>& StepLog::tail() const { return impl_->tail; }

bool StepLog::truncated() const { return impl_->truncated; }

uint64_t StepLog::dropped_bytes() const { return impl_->dropped; }

std::string StepLog::truncation_note() const {
  if (!impl_->truncated) return "";
  return fmt::format("log truncated at max_log_bytes ({}): {} of further output dropped",
                     format_byte_size(impl_->max_bytes), format_byte_size(impl_->dropped));
}

std::string StepLog::with_truncation_note(std::string reason) const {
  std::string note = truncation_note();
  if (note.empty()) return reason;
  return reason.empty() ? note : reason + "; " + note;
}

}  // namespace slipway
