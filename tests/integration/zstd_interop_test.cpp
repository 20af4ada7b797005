// A compressed log chunk is a standard zstd file: the zstd tool (Debian's `zstd`) decompresses it
// whole, skipping the seek table, to exactly the plain chunk — so an operator can read or copy a
// log with the usual tools, without Slipway.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "base/files.h"
#include "base/run_command.h"
#include "ci/log_chunk_file.h"
#include "ci/log_format.h"

namespace slipway {
namespace {

TEST(ZstdInterop, TheZstdToolReadsACompressedChunkWhole) {
  TemporaryDirectory dir;
  std::string records;
  for (int i = 0; i < 60'000; ++i) records += fmt::format("2026-12-06T20:00:00.000Z o test_{} ... ok\n", i);
  ASSERT_GT(records.size(), 2 * kSeekableFrameBytes) << "several frames";
  ASSERT_TRUE(write_file_atomically(dir.path() / "000001.log", records));
  ASSERT_TRUE(compress_log_chunk(dir.path() / "000001.log", 1));
  auto chunks = list_log_chunks(dir.path());
  ASSERT_TRUE(chunks && chunks->size() == 1);
  auto plain = run_command_checked({"zstd", "-q", "-d", "-c", (*chunks)[0].path.string()});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_TRUE(*plain == records) << "zstd -d gave " << plain->size() << " bytes of " << records.size();
}

}  // namespace
}  // namespace slipway
