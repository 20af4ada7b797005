// TaskLogFile: a task run's output lines are written masked by the one SecretMasker — the exact
// value, base64, URL-encoded, JSON-escaped and each line of a multi-line secret — into a 0600
// file in a 0700 folder.
#include "cd/task_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/files.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

TEST(TaskLogFile, MasksEveryFormOfASecret) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path path = folder.path() / "output.log";
  {
    TaskLogFile log(path, {"Sup3r\"Secret/Key+Value", "-----BEGIN KEY-----\nline-of-the-key\n-----END KEY-----"});
    ASSERT_EQ(log.error(), "");
    log.append(LogStream::out, "plain Sup3r\"Secret/Key+Value", 1);
    log.append(LogStream::out, "base64 U3VwM3IiU2VjcmV0L0tleStWYWx1ZQ==", 2);
    log.append(LogStream::err, "url Sup3r%22Secret%2FKey%2BValue and Sup3r%22Secret%2fKey%2bValue", 3);
    log.append(LogStream::out, "json {\"key\":\"Sup3r\\\"Secret/Key+Value\"}", 4);
    log.append(LogStream::out, "one line line-of-the-key", 5);
    log.append(LogStream::out, "abc is too short to be masked", 6);
  }
  auto text = read_file(path);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text,
            "1 o plain ***\n"
            "2 o base64 ***\n"
            "3 e url *** and ***\n"
            "4 o json {\"key\":\"***\"}\n"
            "5 o one line ***\n"
            "6 o abc is too short to be masked\n");
}

TEST(TaskLogFile, NoSecretsWritesLinesAsTheyCome) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path path = folder.path() / "output.log";
  {
    TaskLogFile log(path);
    log.append(LogStream::out, "hello *** world", 7);
  }
  auto text = read_file(path);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "7 o hello *** world\n");
}

TEST(TaskLogFile, TheLogIsPrivateToTheServer) {
  TemporaryDirectory folder("slipway-task-log");
  fs::path path = folder.path() / "task-runs" / "12" / "output.log";
  ASSERT_TRUE(create_task_log(path).ok());
  EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(path.parent_path()).permissions(), fs::perms::owner_all);

  // A log left 0644 by an older version is closed when it is opened again.
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  TaskLogFile reopened(path);
  EXPECT_EQ(reopened.error(), "");
  EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
}

TEST(TaskLogFile, AFolderThatCannotBeMadeIsAnError) {
  TemporaryDirectory folder("slipway-task-log");
  ASSERT_TRUE(write_file_atomically(folder.path() / "file", "x").ok());
  Status made = create_task_log(folder.path() / "file" / "12" / "output.log");
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message.find("file"), std::string::npos) << made.error().message;
}

}  // namespace
}  // namespace slipway
