// Closed step-log chunks are compressed (ci/log_chunk_writer.h, ci/log_chunk_file.h): after a
// step's log is closed, every chunk of at least 16 KiB is `NNNNNN.<size>.log.zst` and no plain
// twin is left; the records, any byte range and the tail read back exactly as from plain
// chunks; logs written before (plain chunks) and logs mixing both forms read the same; a plain
// chunk compressed between a reader's listing and its open is found under its new name.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "base/files.h"
#include "ci/log_chunk_file.h"
#include "ci/log_chunk_writer.h"
#include "ci/log_format.h"
#include "ci/step_log.h"
#include "server/log_range.h"

namespace slipway {
namespace {

constexpr const char* kStamp = "2026-12-06T20:00:00.000Z";

// Lines "test_N ... ok" into `directory` through the writer, chunks of `chunk_bytes`.
void write_lines(const std::filesystem::path& directory, int lines, size_t chunk_bytes) {
  auto writer = LogChunkWriter::open(directory, chunk_bytes);
  ASSERT_TRUE(writer);
  for (int i = 0; i < lines; ++i) ASSERT_TRUE((*writer)->append(kStamp, 'o', fmt::format("test_{} ... ok", i)));
  ASSERT_TRUE((*writer)->close());
}

std::vector<std::string> texts(const std::filesystem::path& directory) {
  std::vector<std::string> lines;
  Status read = read_step_log(directory, [&](const LogLine& line) {
    lines.emplace_back(line.text);
    return true;
  });
  EXPECT_TRUE(read) << (read ? "" : read.error().message);
  return lines;
}

std::vector<std::string> range_texts(const LogRange& range) {
  std::vector<std::string> lines;
  for (const LogRecord& record : range.records) lines.push_back(record.text);
  return lines;
}

TEST(LogChunkCompression, ClosedChunksAreCompressedAndReadBackTheSame) {
  TemporaryDirectory compressed, plain;
  write_lines(compressed.path(), 20'000, 100'000);  // ~9 chunks of ~100 KB
  auto chunks = list_log_chunks(compressed.path());
  ASSERT_TRUE(chunks);
  ASSERT_GE(chunks->size(), 5u);
  uint64_t plain_bytes = 0, disk_bytes = 0;
  for (const LogChunk& chunk : *chunks) {
    EXPECT_TRUE(chunk.compressed) << chunk.path;
    EXPECT_FALSE(std::filesystem::exists(compressed.path() / chunk_file_name(chunk.number))) << "no plain twin left";
    plain_bytes += chunk.plain_size;
    disk_bytes += std::filesystem::file_size(chunk.path);
  }
  EXPECT_LT(disk_bytes * 5, plain_bytes) << "test output compresses well";

  // The same lines, uncompressed: chunks too small to be worth compressing stay plain.
  write_lines(plain.path(), 20'000, 8'000);
  auto small = list_log_chunks(plain.path());
  ASSERT_TRUE(small);
  for (const LogChunk& chunk : *small) EXPECT_FALSE(chunk.compressed);
  auto lines = texts(compressed.path());
  ASSERT_EQ(lines.size(), 20'000u);
  EXPECT_EQ(lines.front(), "test_0 ... ok");
  EXPECT_EQ(lines.back(), "test_19999 ... ok");
  EXPECT_EQ(lines, texts(plain.path()));

  // Byte offsets index the plain text either way: ranges and the tail are the same.
  for (uint64_t offset : {uint64_t{0}, uint64_t{99'990}, uint64_t{100'001}, uint64_t{250'000}, plain_bytes - 10}) {
    auto a = read_log_range(compressed.path(), offset, 5'000);
    auto b = read_log_range(plain.path(), offset, 5'000);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->offset, b->offset);
    EXPECT_EQ(a->next_offset, b->next_offset);
    EXPECT_EQ(a->size, plain_bytes);
    EXPECT_EQ(range_texts(*a), range_texts(*b)) << offset;
  }
  auto tail = read_log_tail(compressed.path(), 300, 64'000);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->next_offset, plain_bytes);
  EXPECT_EQ(range_texts(*tail).back(), "test_19999 ... ok");
}

TEST(LogChunkCompression, AnOldPlainLogAndAMixOfBothReadTheSame) {
  TemporaryDirectory mixed;
  write_lines(mixed.path(), 5'000, 40'000);
  // Decompress the second chunk back to a plain file, as a log from before compression has it.
  auto chunks = *list_log_chunks(mixed.path());
  ASSERT_GE(chunks.size(), 3u);
  auto second = LogChunkFile::open(chunks[1]);
  ASSERT_TRUE(second);
  ASSERT_TRUE(write_file_atomically(mixed.path() / chunk_file_name(chunks[1].number), *second->read(0, second->size())));
  std::filesystem::remove(chunks[1].path);
  auto listed = *list_log_chunks(mixed.path());
  EXPECT_FALSE(listed[1].compressed);
  EXPECT_TRUE(listed[2].compressed);
  auto lines = texts(mixed.path());
  ASSERT_EQ(lines.size(), 5'000u);
  for (int i = 0; i < 5'000; ++i) ASSERT_EQ(lines[i], fmt::format("test_{} ... ok", i));
}

TEST(LogChunkCompression, APlainChunkCompressedAfterTheListingIsFoundByItsNewName) {
  TemporaryDirectory dir;
  std::string records;
  for (int i = 0; i < 2'000; ++i) records += fmt::format("{} o line {}\n", kStamp, i);
  ASSERT_TRUE(write_file_atomically(dir.path() / "000001.log", records));
  auto listed = *list_log_chunks(dir.path());  // a reader lists: the plain chunk
  ASSERT_TRUE(compress_log_chunk(dir.path() / "000001.log", 1));  // the writer compresses it
  auto file = LogChunkFile::open(listed[0]);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(*file->read(0, file->size()), records);
  auto both = *list_log_chunks(dir.path());
  ASSERT_EQ(both.size(), 1u);
  EXPECT_TRUE(both[0].compressed);
  EXPECT_EQ(both[0].plain_size, records.size());
}

TEST(LogChunkCompression, ACompressedChunkWhoseNameLiesIsRefused) {
  TemporaryDirectory dir;
  std::string records = fmt::format("{} o one line\n", kStamp);
  ASSERT_TRUE(write_file_atomically(dir.path() / "000001.log", records));
  ASSERT_TRUE(compress_log_chunk(dir.path() / "000001.log", 1));
  auto chunk = (*list_log_chunks(dir.path()))[0];
  std::filesystem::rename(chunk.path, dir.path() / "000001.999.log.zst");
  auto file = LogChunkFile::open((*list_log_chunks(dir.path()))[0]);
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("not the 999 its name says"), std::string::npos) << file.error().message;
}

}  // namespace
}  // namespace slipway
