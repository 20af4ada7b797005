// TaskLogFile: a task run's output lines are written as a step's log is — masked by the one
// SecretMasker (the exact value, base64, URL-encoded, JSON-escaped and each line of a multi-line
// secret), in chunks in a 0700 folder, closed chunks compressed — and read back by byte range
// through read_task_log, which also still reads a run's log from before (one output.log file).
#include "cd/task_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include <fmt/core.h>

#include "base/files.h"
#include "ci/log_format.h"
#include "server/task_log_reader.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& log, const std::string& stream = "") {
  auto page = read_task_log(log, 0, 1 << 20);
  EXPECT_TRUE(page) << (page ? "" : page.error().message);
  std::vector<std::string> lines;
  for (const TaskLogLine& line : page ? page->lines : std::vector<TaskLogLine>{}) {
    if (stream.empty() || line.stream == stream) lines.push_back(line.text);
  }
  return lines;
}

TEST(TaskLogFile, MasksEveryFormOfASecret) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path log = folder.path() / "log";
  {
    TaskLogFile file(log, {"Sup3r\"Secret/Key+Value", "-----BEGIN KEY-----\nline-of-the-key\n-----END KEY-----"});
    ASSERT_EQ(file.error(), "");
    file.append(LogStream::out, "plain Sup3r\"Secret/Key+Value");
    file.append(LogStream::out, "base64 U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ==");
    file.append(LogStream::err, "url Sup3r%22Secret%2FKey%2BValue and Sup3r%22Secret%2fKey%2bValue");
    file.append(LogStream::out, "json {\"key\":\"Sup3r\\\"Secret/Key+Value\"}");
    file.append(LogStream::out, "one line line-of-the-key");
    file.append(LogStream::out, "abc is too short to be masked");
  }
  EXPECT_EQ(lines_of(log, "stdout"), (std::vector<std::string>{"plain ***", "base64 ***", "json {\"key\":\"***\"}",
                                                               "one line ***", "abc is too short to be masked"}));
  EXPECT_EQ(lines_of(log, "stderr"), (std::vector<std::string>{"url *** and ***"}));
}

TEST(TaskLogFile, EachLineIsReadableAsSoonAsItIsAppended) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path log = folder.path() / "log";
  TaskLogFile file(log);
  file.append(LogStream::out, "hello *** world");
  EXPECT_EQ(lines_of(log), (std::vector<std::string>{"hello *** world"})) << "before the log is closed";
  auto page = read_task_log(log, 0, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_GT(page->lines[0].at_ms, 0);
  EXPECT_EQ(page->next_offset, page->size);
  file.append(LogStream::out, "second");
  auto next = read_task_log(log, page->next_offset, 1 << 20);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->lines.size(), 1u);
  EXPECT_EQ(next->lines[0].text, "second");
}

TEST(TaskLogFile, ALongLogIsCompressedAndReadsTheSame) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path log = folder.path() / "log";
  {
    TaskLogFile file(log);
    for (int i = 0; i < 200'000; ++i) file.append(LogStream::out, fmt::format("row {} of the daily load ... ok", i));
  }
  auto chunks = list_log_chunks(log);
  ASSERT_TRUE(chunks);
  ASSERT_GE(chunks->size(), 1u);
  EXPECT_TRUE(chunks->front().compressed);
  uint64_t offset = 0;
  int seen = 0;
  for (;;) {
    auto page = read_task_log(log, offset, 256 * 1024);
    ASSERT_TRUE(page);
    for (const TaskLogLine& line : page->lines) ASSERT_EQ(line.text, fmt::format("row {} of the daily load ... ok", seen++));
    if (page->next_offset == offset) break;
    offset = page->next_offset;
  }
  EXPECT_EQ(seen, 200'000);
}

TEST(TaskLogFile, TheLogIsPrivateToTheServer) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path log = folder.path() / "task-runs" / "12" / "log";
  ASSERT_TRUE(create_task_log(log).ok());
  EXPECT_EQ(fs::status(log.parent_path()).permissions(), fs::perms::owner_all);
  {
    TaskLogFile file(log);
    file.append(LogStream::out, "a line");
  }
  auto chunks = list_log_chunks(log);
  ASSERT_TRUE(chunks && chunks->size() == 1);
  EXPECT_EQ(fs::status(chunks->front().path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
}

TEST(TaskLogFile, AFolderThatCannotBeMadeIsAnError) {
  TemporaryDirectory folder("slipway-task-log");
  ASSERT_TRUE(write_file_atomically(folder.path() / "file", "x").ok());
  Status made = create_task_log(folder.path() / "file" / "12" / "log");
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message.find("file"), std::string::npos) << made.error().message;
  TaskLogFile file(folder.path() / "file" / "12" / "log");
  EXPECT_NE(file.error(), "");
}

// A run logged before task logs were chunks: one file, "<unix ms> <o|e> <text>" per line.
TEST(TaskLogFile, ARunFromBeforeStillReads) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path old = folder.path() / "output.log";
  ASSERT_TRUE(write_file_atomically(old, "1767225600123 o loading\n1767225600456 e warning: slow\n"));
  auto page = read_task_log(old, 0, 1 << 20);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->lines.size(), 2u);
  EXPECT_EQ(page->lines[0].at_ms, 1767225600123);
  EXPECT_EQ(page->lines[1].stream, "stderr");
  EXPECT_EQ(page->lines[1].text, "warning: slow");
}

}  // namespace
}  // namespace slipway
