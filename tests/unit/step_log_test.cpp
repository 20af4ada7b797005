#include "ci/step_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "ci/log_chunk_file.h"
#include "ci/log_format.h"
#include "ci/utf8_sanitizer.h"

// GCC pairs the replaced operator delete's free() with `new` and warns; the pairing is right.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// The largest single allocation made while `g_track_allocations` is set: proves that a huge
// line never gets buffered whole.
static std::atomic<bool> g_track_allocations{false};
static std::atomic<size_t> g_largest_allocation{0};

void* operator new(size_t size) {
  if (g_track_allocations && size > g_largest_allocation) g_largest_allocation = size;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace slipway {
namespace {

struct Record {
  int64_t timestamp_ms;
  char stream;
  std::string text;
};

std::vector<Record> read_all(const std::filesystem::path& directory) {
  std::vector<Record> records;
  auto status = read_step_log(directory, [&](const LogLine& line) {
    records.push_back({line.timestamp_ms, line.stream, std::string(line.text)});
    return true;
  });
  EXPECT_TRUE(status) << (status ? "" : status.error().message);
  return records;
}

std::string read_chunks(const std::filesystem::path& directory) {
  std::string all;
  auto chunks = list_log_chunks(directory);
  EXPECT_TRUE(chunks);
  for (const auto& chunk : *chunks) {  // the plain text, whichever form the chunk is in
    auto file = LogChunkFile::open(chunk);
    EXPECT_TRUE(file) << (file ? "" : file.error().message);
    if (file) all += *file->read(0, file->size());
  }
  return all;
}

class CollectingListener : public LogListener {
 public:
  void on_line(const LogLine& line) override { lines.push_back({line.timestamp_ms, line.stream, std::string(line.text)}); }
  std::vector<Record> lines;
};

std::unique_ptr<StepLog> open_log(const std::filesystem::path& directory,
                                  std::shared_ptr<const SecretMasker> masker = nullptr,
                                  LogListener* listener = nullptr,
                                  size_t chunk_bytes = StepLog::kDefaultChunkBytes) {
  auto log = StepLog::create(directory, std::move(masker), listener, chunk_bytes);
  EXPECT_TRUE(log) << (log ? "" : log.error().message);
  return std::move(*log);
}

TEST(StepLog, WritesStampedLinesWithStreamLetters) {
  TemporaryDirectory dir;
  int64_t before = now_ms();
  auto log = open_log(dir.path());
  log->on_output(OutputStream::out, "first\nsec");
  log->on_output(OutputStream::err, "oops\n");
  log->on_output(OutputStream::out, "ond\n");
  log->write_system_line("exit status 1");
  ASSERT_TRUE(log->close());
  int64_t after = now_ms();

  auto records = read_all(dir.path());
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].stream, 'o');
  EXPECT_EQ(records[0].text, "first");
  EXPECT_EQ(records[1].stream, 'e');
  EXPECT_EQ(records[1].text, "oops");
  EXPECT_EQ(records[2].text, "second");
  EXPECT_EQ(records[3].stream, 's');
  EXPECT_EQ(records[3].text, "exit status 1");
  for (const auto& record : records) {
    EXPECT_GE(record.timestamp_ms, before);
    EXPECT_LE(record.timestamp_ms, after);
  }
  EXPECT_EQ(log->line_count(), 4u);
  EXPECT_EQ(log->byte_count(), std::string("firstoopssecondexit status 1").size());

  std::string raw = read_chunks(dir.path());
  EXPECT_EQ(raw.substr(kTimestampChars, 9), " o first\n");
  EXPECT_EQ(parse_timestamp(raw.substr(0, kTimestampChars)), records[0].timestamp_ms);
}

TEST(StepLog, FlushesPartialLinesAtClose) {
  TemporaryDirectory dir;
  auto log = open_log(dir.path());
  log->on_output(OutputStream::out, "no newline");
  log->on_output(OutputStream::err, "err tail");
  ASSERT_TRUE(log->close());
  auto records = read_all(dir.path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].text, "no newline");
  EXPECT_EQ(records[1].text, "err tail");
  EXPECT_EQ(records[1].stream, 'e');
}

TEST(StepLog, ReplacesInvalidUtf8) {
  TemporaryDirectory dir;
  auto log = open_log(dir.path());
  log->on_output(OutputStream::out, "bad \xff byte, caf\xc3");  // é split across two writes
  log->on_output(OutputStream::out, "\xa9 ok, cut \xe2\x82\n");
  log->on_output(OutputStream::out, "dangling \xe2");
  ASSERT_TRUE(log->close());
  auto records = read_all(dir.path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].text, "bad \xEF\xBF\xBD byte, caf\xc3\xa9 ok, cut \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(records[1].text, "dangling \xEF\xBF\xBD");
}

TEST(Utf8Sanitizer, MatchesSanitizeUtf8WhateverTheSplit) {
  std::mt19937 random(7);
  const std::vector<std::string> atoms = {"a", "\n", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
                                          "\xc0\xaf", "\xed\xa0\x80", "\x80", "\xe2", "\xf4\x90\x80\x80", "plain"};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int i = 0; i < 40; ++i) text += atoms[random() % atoms.size()];
    Utf8Sanitizer sanitizer;
    std::string out, scratch;
    std::string_view rest(text);
    while (!rest.empty()) {
      size_t size = std::min<size_t>(rest.size(), 1 + random() % 9);
      out.append(sanitizer.feed(rest.substr(0, size), scratch));
      rest.remove_prefix(size);
    }
    out.append(sanitizer.finish(scratch));
    ASSERT_EQ(out, sanitize_utf8(text)) << "round " << round;
  }
}

// A 10 MB line, with multi-byte characters placed so that cuts fall inside them.
std::string huge_line() {
  std::string line;
  while (line.size() < 10'000'000) line += "abcdefghi\xe2\x82\xac";
  return line;
}

void expect_cut_records(const std::vector<Record>& records, const std::string& line) {
  ASSERT_GE(records.size(), line.size() / StepLog::kMaxLineBytes);
  ASSERT_LE(records.size(), line.size() / StepLog::kMaxLineBytes + 2);
  std::string joined;
  for (size_t i = 0; i < records.size(); ++i) {
    bool last = i + 1 == records.size();
    EXPECT_EQ(records[i].stream, last ? 'o' : 'O') << i;
    EXPECT_LE(records[i].text.size(), StepLog::kMaxLineBytes);
    if (!last) {
      EXPECT_GE(records[i].text.size(), StepLog::kMaxLineBytes - 3);
    }
    EXPECT_EQ(sanitize_utf8(records[i].text), records[i].text) << "record " << i << " cuts a character";
    joined += records[i].text;
  }
  EXPECT_TRUE(joined == line);
}

TEST(StepLog, CutsHugeLineWrittenAtOnce) {
  TemporaryDirectory dir;
  std::string line = huge_line();
  auto log = open_log(dir.path(), std::make_shared<const SecretMasker>(std::vector<std::string>{"zzzzsecret"}));
  std::string input = line + "\n";
  g_largest_allocation = 0;
  g_track_allocations = true;
  log->on_output(OutputStream::out, input);
  g_track_allocations = false;
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 20) << "a buffer grew to hold the line";
  ASSERT_TRUE(log->close());
  expect_cut_records(read_all(dir.path()), line);
}

TEST(StepLog, CutsHugeLineWrittenInSmallPieces) {
  TemporaryDirectory dir;
  std::string line = huge_line();
  auto log = open_log(dir.path(), std::make_shared<const SecretMasker>(std::vector<std::string>{"zzzzsecret"}));
  g_largest_allocation = 0;
  g_track_allocations = true;
  for (size_t at = 0; at < line.size(); at += 4093) {
    log->on_output(OutputStream::out, std::string_view(line).substr(at, 4093));
  }
  g_track_allocations = false;
  EXPECT_LT(g_largest_allocation.load(), size_t{1} << 20);
  ASSERT_TRUE(log->close());
  expect_cut_records(read_all(dir.path()), line);
}

TEST(StepLog, RotatesChunksAtRecordBoundaries) {
  TemporaryDirectory dir;
  auto log = open_log(dir.path(), nullptr, nullptr, 200);
  for (int i = 0; i < 50; ++i) log->on_output(OutputStream::out, fmt::format("line number {:03}\n", i));
  ASSERT_TRUE(log->close());
  auto chunks = *list_log_chunks(dir.path());
  ASSERT_GT(chunks.size(), 5u);
  EXPECT_EQ(chunks[0].path.filename(), "000001.log");
  EXPECT_EQ(chunks[1].path.filename(), "000002.log");
  for (const auto& chunk : chunks) {
    std::string content = *read_file(chunk.path);
    EXPECT_LE(content.size(), 200u);
    EXPECT_EQ(content.back(), '\n');
  }
  auto records = read_all(dir.path());
  ASSERT_EQ(records.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(records[i].text, fmt::format("line number {:03}", i));
}

TEST(StepLog, ReadStopsWhenVisitorSaysSo) {
  TemporaryDirectory dir;
  auto log = open_log(dir.path(), nullptr, nullptr, 100);
  for (int i = 0; i < 20; ++i) log->on_output(OutputStream::out, "a line\n");
  ASSERT_TRUE(log->close());
  int seen = 0;
  ASSERT_TRUE(read_step_log(dir.path(), [&](const LogLine&) { return ++seen < 5; }));
  EXPECT_EQ(seen, 5);
}

TEST(StepLog, ReadReportsMalformedChunk) {
  TemporaryDirectory dir;
  ASSERT_TRUE(write_file_atomically(dir.path() / "000001.log", "not a record\n"));
  auto status = read_step_log(dir.path(), [](const LogLine&) { return true; });
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("000001.log"), std::string::npos);
}

TEST(StepLog, ReopeningContinuesAfterExistingChunks) {
  TemporaryDirectory dir;
  auto first = open_log(dir.path());
  first->on_output(OutputStream::out, "one\n");
  ASSERT_TRUE(first->close());
  auto second = open_log(dir.path());
  second->write_system_line("two");
  ASSERT_TRUE(second->close());
  auto records = read_all(dir.path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].text, "one");
  EXPECT_EQ(records[1].text, "two");
}

TEST(StepLog, TailKeepsLastTwentyLines) {
  TemporaryDirectory dir;
  auto log = open_log(dir.path());
  for (int i = 0; i < 100; ++i) log->on_output(OutputStream::out, fmt::format("line {}\n", i));
  ASSERT_EQ(log->tail().size(), StepLog::kTailLines);
  EXPECT_EQ(log->tail().front(), "line 80");
  EXPECT_EQ(log->tail().back(), "line 99");
}

TEST(StepLog, ListenerReceivesMaskedLines) {
  TemporaryDirectory dir;
  CollectingListener listener;
  auto masker = std::make_shared<const SecretMasker>(std::vector<std::string>{"tok-123456"});
  auto log = open_log(dir.path(), masker, &listener);
  log->on_output(OutputStream::out, "using tok-12");
  log->on_output(OutputStream::out, "3456 now\n");
  log->write_system_line("failed with tok-123456");
  ASSERT_TRUE(log->close());
  ASSERT_EQ(listener.lines.size(), 2u);
  EXPECT_EQ(listener.lines[0].text, "using *** now");
  EXPECT_EQ(listener.lines[1].text, "failed with ***");
  EXPECT_EQ(listener.lines[1].stream, 's');
  EXPECT_EQ(log->tail().back(), "failed with ***");
}

TEST(StepLog, NoSecretReachesAnyFile) {
  TemporaryDirectory dir;
  std::vector<std::string> secrets = {"db-pass-987654", "line-one-key\nline-two-key", "a b/c?d"};
  auto masker = std::make_shared<const SecretMasker>(secrets);
  auto log = open_log(dir.path(), masker, nullptr, 512);
  std::string output =
      "db-pass-987654\nZGItcGFzcy05ODc2NTQ=\n{\"k\":\"line-one-key\\nline-two-key\"}\n"
      "url a%20b%2Fc%3Fd and a+b%2Fc%3Fd\nline-one-key\nline-two-key\n";
  std::mt19937 random(3);
  for (int round = 0; round < 40; ++round) {
    std::string_view rest(output);
    while (!rest.empty()) {
      size_t size = std::min<size_t>(rest.size(), 1 + random() % 13);
      log->on_output(round % 2 ? OutputStream::err : OutputStream::out, rest.substr(0, size));
      rest.remove_prefix(size);
    }
  }
  ASSERT_TRUE(log->close());
  std::string all = read_chunks(dir.path());
  for (const std::string needle : {"db-pass", "ZGItcGFzcy05ODc2NTQ", "line-one-key", "line-two-key", "a%20b", "a+b%2F"}) {
    EXPECT_EQ(all.find(needle), std::string::npos) << needle;
  }
  // Six lines per round, but the last two are the multi-line secret, masked whole into one.
  EXPECT_EQ(read_all(dir.path()).size(), 40u * 5);
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

uint64_t chunk_bytes_on_disk(const std::filesystem::path& directory) {
  uint64_t total = 0;
  auto chunks = list_log_chunks(directory);
  EXPECT_TRUE(chunks);
  if (!chunks) return 0;
  for (const auto& chunk : *chunks) total += std::filesystem::file_size(chunk.path);
  return total;
}

TEST(StepLogCap, DropsOutputPastMaxBytesWithOneMarkerAndKeepsSystemLines) {
  TemporaryDirectory dir;
  constexpr uint64_t kCap = 4096;
  auto log = StepLog::create(dir.path(), nullptr, nullptr, StepLog::kDefaultChunkBytes, kCap);
  ASSERT_TRUE(log);
  std::string line(100, 'x');
  line += '\n';
  for (int i = 0; i < 1000; ++i) (*log)->on_output(i % 2 ? OutputStream::err : OutputStream::out, line);
  EXPECT_TRUE((*log)->truncated());
  // 1000 lines of 101 bytes; those that fit (at most kCap / (101 + record overhead)) were written.
  uint64_t written_lines = kCap / (101 + kRecordOverhead);
  EXPECT_GE((*log)->dropped_bytes(), (1000 - written_lines - 1) * 101);
  (*log)->write_system_line("suite exited with status 0");
  ASSERT_TRUE((*log)->close());

  auto records = read_all(dir.path());
  size_t markers = 0;
  for (const auto& record : records) {
    if (record.text.find("log truncated: max_log_bytes (4 KiB) reached") != std::string::npos) ++markers;
  }
  EXPECT_EQ(markers, 1u);
  EXPECT_EQ(records.back().text, "suite exited with status 0");
  EXPECT_EQ(records.back().stream, 's');
  // The cap plus the marker and Slipway's own closing line; nothing of the dropped output.
  EXPECT_LE(chunk_bytes_on_disk(dir.path()), kCap + 2 * (kRecordOverhead + 120));
  EXPECT_NE((*log)->truncation_note().find("log truncated at max_log_bytes (4 KiB)"), std::string::npos);
  EXPECT_NE((*log)->truncation_note().find("of further output dropped"), std::string::npos);
}

TEST(StepLogCap, OutputPastTheCapIsCountedUnreadNotBuffered) {
  TemporaryDirectory dir;
  auto log = StepLog::create(dir.path(), nullptr, nullptr, StepLog::kDefaultChunkBytes, 2048);
  ASSERT_TRUE(log);
  (*log)->on_output(OutputStream::out, std::string(4096, 'a') + "\n");  // one record, over the cap
  ASSERT_TRUE((*log)->truncated());
  std::string block(1 << 20, 'b');
  g_largest_allocation = 0;
  g_track_allocations = true;
  for (int i = 0; i < 16; ++i) (*log)->on_output(OutputStream::out, block);
  g_track_allocations = false;
  EXPECT_EQ(g_largest_allocation.load(), 0u);  // not masked, not split, not copied
  EXPECT_EQ((*log)->dropped_bytes(), 4097u + 16u * block.size());
  ASSERT_TRUE((*log)->close());
}

TEST(StepLogCap, UnderTheCapNothingIsSaid) {
  TemporaryDirectory dir;
  auto log = StepLog::create(dir.path(), nullptr, nullptr, StepLog::kDefaultChunkBytes, 1 << 20);
  ASSERT_TRUE(log);
  (*log)->on_output(OutputStream::out, "small\n");
  ASSERT_TRUE((*log)->close());
  EXPECT_FALSE((*log)->truncated());
  EXPECT_EQ((*log)->truncation_note(), "");
}

TEST(FormatByteSize, PowersOf1024) {
  EXPECT_EQ(format_byte_size(0), "0 bytes");
  EXPECT_EQ(format_byte_size(1), "1 byte");
  EXPECT_EQ(format_byte_size(4096), "4 KiB");
  EXPECT_EQ(format_byte_size(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(format_byte_size(uint64_t{1} << 30), "1 GiB");
}

}  // namespace
}  // namespace slipway
