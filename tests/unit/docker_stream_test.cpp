// DockerStreamDemuxer: the Engine's 8-byte-header frames back into stdout and stderr lines, with
// frames, headers and lines cut at every possible point between chunks.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cd/docker_stream.h"

namespace slipway {
namespace {

std::string frame(int stream, std::string_view payload) {
  std::string out = {static_cast<char>(stream), 0, 0, 0};
  uint32_t size = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((size >> shift) & 0xFF);
  return out + std::string(payload);
}

using Lines = std::vector<std::pair<LogStream, std::string>>;

Lines demux(const std::vector<std::string>& chunks) {
  Lines lines;
  DockerStreamDemuxer demuxer([&](LogStream stream, std::string_view line) { lines.emplace_back(stream, line); });
  for (const auto& chunk : chunks) demuxer.feed(chunk);
  demuxer.finish();
  return lines;
}

TEST(DockerStreamTest, SplitsFramesIntoLinesPerStream) {
  Lines lines = demux({frame(1, "one\ntwo\n") + frame(2, "oops\r\n") + frame(1, "three\n")});
  Lines expected = {{LogStream::out, "one"}, {LogStream::out, "two"}, {LogStream::err, "oops"}, {LogStream::out, "three"}};
  EXPECT_EQ(lines, expected);
}

TEST(DockerStreamTest, JoinsALineSpreadOverFramesAndKeepsStreamsApart) {
  Lines lines = demux({frame(1, "hel") + frame(2, "err") + frame(1, "lo\n") + frame(2, "or\n")});
  Lines expected = {{LogStream::out, "hello"}, {LogStream::err, "error"}};
  EXPECT_EQ(lines, expected);
}

TEST(DockerStreamTest, SameLinesWhateverWhereTheChunksAreCut) {
  std::string body = frame(1, "first line\nsecond ") + frame(2, "a warning\n") + frame(1, "line\n") +
                     frame(1, std::string(300, 'x') + "\n") + frame(2, "no newline at the end");
  Lines whole = demux({body});
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[1], (std::pair<LogStream, std::string>{LogStream::err, "a warning"}));
  EXPECT_EQ(whole[2], (std::pair<LogStream, std::string>{LogStream::out, "second line"}));
  EXPECT_EQ(whole[4], (std::pair<LogStream, std::string>{LogStream::err, "no newline at the end"}));
  for (size_t cut = 1; cut < body.size(); ++cut) {
    EXPECT_EQ(demux({body.substr(0, cut), body.substr(cut)}), whole) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : body) bytes.emplace_back(1, c);
  EXPECT_EQ(demux(bytes), whole);
}

TEST(DockerStreamTest, AnEmptyFrameAndAnEmptyLineAreKept) {
  Lines lines = demux({frame(1, ""), frame(1, "\n\nlast\n")});
  Lines expected = {{LogStream::out, ""}, {LogStream::out, ""}, {LogStream::out, "last"}};
  EXPECT_EQ(lines, expected);
}

}  // namespace
}  // namespace slipway
