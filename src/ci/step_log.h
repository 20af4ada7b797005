// StepLog: the durable, masked, line-oriented log of one step. Raw output bytes go in; secrets
// are masked on the stream, bytes are split into lines (a line longer than kMaxLineBytes is cut
// into several records marked as continued), invalid UTF-8 is replaced with U+FFFD, and each
// line is stamped and appended to chunk files `NNNNNN.log` of at most `chunk_bytes` in
// `directory`. Memory stays flat whatever the log's size. Listeners see each finished line live.
// Writing and closing may happen from two threads (a service's output and the job's own lines).
//
// A log holds at most `max_bytes` of records on disk (max_log_bytes): the record that would
// pass it is dropped, one system line says so, and every later byte of the step's output is
// counted and dropped unread — not buffered, not masked. Slipway's own lines ("exit status 1")
// are still written. truncated() and dropped_bytes() let the caller say so in the step's result.
//
// On disk a record is one line: "<RFC 3339 UTC timestamp> <o|e|s> <text>\n", where o is stdout,
// e is stderr and s a line written by Slipway itself; a record cut from a longer line has its
// stream letter upper-cased (O, E) on every piece but the last.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret_masker.h"
#include "ci/executor.h"

namespace slipway {

struct LogLine {
  int64_t timestamp_ms = 0;
  char stream = 'o';         // 'o', 'e' or 's'; upper-case 'O'/'E' for a cut, continued piece
  std::string_view text;     // masked, valid UTF-8, without the newline
};

class LogListener {
 public:
  virtual ~LogListener() = default;
  virtual void on_line(const LogLine& line) = 0;
  // Called after the lines of one read from the step's pipes (and after system lines): the
  // moment to push buffered output out, so a listener need not flush per line.
  virtual void on_batch_end() {}
};

class StepLog : public OutputSink {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  static constexpr size_t kDefaultChunkBytes = 8 * 1024 * 1024;
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{1} << 30;  // 1 GiB

  // Creates `directory` if needed. `masker` may be null (nothing to mask); `listener` may be null.
  static Result<std::unique_ptr<StepLog>> create(const std::filesystem::path& directory,
                                                 std::shared_ptr<const SecretMasker> masker,
                                                 LogListener* listener,
                                                 size_t chunk_bytes = kDefaultChunkBytes,
                                                 uint64_t max_bytes = kDefaultMaxBytes);
  ~StepLog() override;

  void on_output(OutputStream stream, std::string_view bytes) override;
  // A line from Slipway itself ("exit status 1", "timed out after 30s"); masked like the rest.
  void write_system_line(std::string_view text);
  // Flushes partial lines and the masking hold-back, and closes the current chunk.
  Status close();

  uint64_t line_count() const;
  uint64_t byte_count() const;          // bytes of text written, after masking
  bool truncated() const;               // max_bytes was reached: output was dropped
  uint64_t dropped_bytes() const;       // output bytes dropped since (raw, as the step printed them)
  // "log truncated at max_log_bytes (1 GiB): 2.0 GiB of further output dropped", or "" when
  // nothing was dropped: what the step's result says.
  std::string truncation_note() const;
  // `reason` with the truncation note after it ("; "-joined), so the API and report say it
  // whether the step passed or not.
  std::string with_truncation_note(std::string reason) const;
  // The last lines written (masked), at most `kTailLines`, for failure excerpts.
  static constexpr size_t kTailLines = 20;
  const std::deque<std::string>& tail() const;

  struct Impl;
 private:
  explicit StepLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a step's log back in order, record by record, without loading it whole. Stops early
// when `visit` returns false.
Status read_step_log(const std::filesystem::path& directory,
                     const std::function<bool(const LogLine&)>& visit);

}  // namespace slipway
