// The seekable zstd format (base/seekable_zstd.h): what goes in comes out, whole or by any
// range, across frame boundaries; a file that is not in the format, or lies about its frames,
// is refused with its name instead of being misread.
#include "base/seekable_zstd.h"

#include <gtest/gtest.h>

#include <random>

#include "base/files.h"

namespace slipway {
namespace {

// Test output: repetitive lines with a counter, like a test runner prints.
std::string sample_text(size_t bytes) {
  std::string text;
  for (int i = 0; text.size() < bytes; ++i) text += "2026-12-06T20:00:00.000Z o test_" + std::to_string(i) + " ... ok\n";
  text.resize(bytes);
  return text;
}

class SeekableZstdTest : public ::testing::Test {
 protected:
  std::filesystem::path plain() const { return folder_.path() / "plain"; }
  std::filesystem::path packed() const { return folder_.path() / "packed.zst"; }

  SeekableZstdFile compressed(const std::string& text, size_t frame_bytes) {
    EXPECT_TRUE(write_file_atomically(plain(), text));
    Status made = compress_file_seekable(plain(), packed(), 3, frame_bytes);
    EXPECT_TRUE(made) << (made ? "" : made.error().message);
    auto file = SeekableZstdFile::open(packed());
    EXPECT_TRUE(file) << (file ? "" : file.error().message);
    return std::move(*file);
  }

  TemporaryDirectory folder_;
};

TEST_F(SeekableZstdTest, AnyRangeReadsBackWhatWentIn) {
  std::string text = sample_text(100'000);
  SeekableZstdFile file = compressed(text, 4096);  // 25 frames
  EXPECT_EQ(file.size(), text.size());
  EXPECT_EQ(*file.read(0, text.size()), text);
  std::mt19937 random(12);
  for (int i = 0; i < 200; ++i) {
    uint64_t offset = random() % text.size(), count = random() % 10'000;
    auto range = file.read(offset, count);
    ASSERT_TRUE(range);
    EXPECT_EQ(*range, text.substr(offset, count)) << offset << "+" << count;
  }
  EXPECT_EQ(*file.read(text.size(), 10), "");
  EXPECT_EQ(*file.read(text.size() + 100, 10), "");
  EXPECT_LT(std::filesystem::file_size(packed()), text.size() / 5) << "test output compresses";
}

TEST_F(SeekableZstdTest, AnEmptyFileAndOneShorterThanAFrame) {
  EXPECT_EQ(compressed("", 4096).size(), 0u);
  SeekableZstdFile small = compressed("one line\n", 4096);
  EXPECT_EQ(*small.read(0, 100), "one line\n");
  EXPECT_EQ(*small.read(4, 3), "lin");
}

TEST_F(SeekableZstdTest, WhatIsNotInTheFormatIsRefusedByName) {
  compressed(sample_text(20'000), 4096);
  auto bytes = *read_file(packed());
  auto refused = [&](const std::string& content, const std::string& says) {
    ASSERT_TRUE(write_file_atomically(packed(), content));
    auto file = SeekableZstdFile::open(packed());
    ASSERT_FALSE(file);
    EXPECT_NE(file.error().message.find(packed().string()), std::string::npos) << file.error().message;
    EXPECT_NE(file.error().message.find(says), std::string::npos) << file.error().message;
  };
  refused("plain text, not zstd at all\n", "no seek table");
  refused("", "too short");
  refused(bytes.substr(1), "do not add up");                      // a frame lost its first byte
  std::string lying = bytes;
  lying[lying.size() - 9] = static_cast<char>(0x7f);              // the frame count
  refused(lying, "seek table");
  std::string huge = bytes;
  size_t frames = static_cast<unsigned char>(bytes[bytes.size() - 9]);  // fewer than 256 here
  size_t first_entry = bytes.size() - 9 - frames * 8;
  huge[first_entry + 7] = static_cast<char>(0x10);                // frame 1 "decompresses" to 256 MiB
  refused(huge, "over 64 MiB");
}

TEST_F(SeekableZstdTest, AFrameThatDoesNotDecompressIsAnErrorNotGarbage) {
  std::string text = sample_text(20'000);
  compressed(text, 4096);
  auto bytes = *read_file(packed());
  bytes[20] = static_cast<char>(bytes[20] ^ 0x5a);  // inside the first frame
  ASSERT_TRUE(write_file_atomically(packed(), bytes));
  auto file = SeekableZstdFile::open(packed());
  ASSERT_TRUE(file);
  auto read = file->read(0, 100);
  ASSERT_FALSE(read) << "each frame's checksum catches it";
  EXPECT_NE(read.error().message.find(packed().string()), std::string::npos) << read.error().message;
  EXPECT_EQ(*file->read(8192, 100), text.substr(8192, 100)) << "the other frames still read";
}

}  // namespace
}  // namespace slipway
