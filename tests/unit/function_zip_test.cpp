// write_function_zip: the same files give the same bytes — whatever the mtimes, the order they
// were created in, the folder's location, the owner or the umask — and any change of content,
// name or executable bit changes the hash. Links that leave the folder and special files are
// refused. The zip's bytes are read back here with libarchive; the outside tools (unzip,
// zipinfo, python's zipfile) check it in tests/integration/function_zip_tools_test.cpp.
#include "publish/function_zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <clocale>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& content, bool executable = false) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
  fs::permissions(file, executable ? fs::perms(0750) : fs::perms(0600));
}

// A small function folder, its files created in the order given.
void make_function(const fs::path& folder, bool reverse_order = false) {
  std::vector<std::pair<std::string, std::string>> files = {
      {"handler.py", "def handle(event, context):\n    return 'ok'\n"},
      {"lib/util.py", std::string(20'000, 'x') + "\n"},
      {"lib/a-b.txt", "dash sorts before slash\n"},
      {"data/\xC3\xA9t\xC3\xA9.json", "{\"season\": \"summer\"}\n"},
  };
  if (reverse_order) std::reverse(files.begin(), files.end());
  for (const auto& [name, content] : files) write(folder / name, content);
  write(folder / "bin/run", "#!/bin/sh\nexec python3 handler.py\n", true);
  fs::create_directories(folder / "empty");
  fs::create_symlink("util.py", folder / "lib/current.py");
}

struct ListedEntry {
  std::string name;
  mode_t mode = 0;
  int64_t uid = -1, gid = -1;
  bool has_owner_name = false;
  std::string link;
};

// What libarchive's reader sees in the zip, in archive order. It converts names to the locale's
// encoding, so it reads in a UTF-8 one.
std::vector<ListedEntry> list_zip(const fs::path& zip) {
  std::string saved_locale = std::setlocale(LC_CTYPE, nullptr);
  std::setlocale(LC_CTYPE, "C.UTF-8");
  std::vector<ListedEntry> listed;
  struct archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_filename(a, zip.c_str(), 10240), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    ListedEntry item{archive_entry_pathname(entry), archive_entry_mode(entry), archive_entry_uid(entry),
                     archive_entry_gid(entry), archive_entry_uname(entry) || archive_entry_gname(entry)};
    if (archive_entry_symlink(entry)) item.link = archive_entry_symlink(entry);
    listed.push_back(item);
  }
  archive_read_free(a);
  std::setlocale(LC_CTYPE, saved_locale.c_str());
  return listed;
}

class FunctionZip : public ::testing::Test {
 protected:
  TemporaryDirectory scratch_{"slipway-zip"};
};

TEST_F(FunctionZip, SameFolderGivesTheSameBytesTwice) {
  make_function(scratch_.path() / "fn");
  auto first = write_function_zip(scratch_.path() / "fn", scratch_.path() / "one.zip");
  auto second = write_function_zip(scratch_.path() / "fn", scratch_.path() / "two.zip");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*read_file(scratch_.path() / "one.zip"), *read_file(scratch_.path() / "two.zip"));
  EXPECT_EQ(first->sha256, second->sha256);
  EXPECT_EQ(first->sha256, sha256_hex(*read_file(scratch_.path() / "one.zip")));
  EXPECT_EQ(first->bytes, static_cast<int64_t>(fs::file_size(scratch_.path() / "one.zip")));
  EXPECT_EQ(first->files, 6) << "five files and one symlink; directories are not counted";
}

TEST_F(FunctionZip, MtimesCreationOrderAndLocationDoNotMatter) {
  make_function(scratch_.path() / "fn");
  auto original = write_function_zip(scratch_.path() / "fn", scratch_.path() / "original.zip");
  ASSERT_TRUE(original.ok()) << original.error().message;

  fs::path elsewhere = scratch_.path() / "another/place/renamed";
  ::mode_t old_umask = ::umask(077);
  make_function(elsewhere, /*reverse_order=*/true);
  ::umask(old_umask);
  auto past = fs::file_time_type::clock::now() - std::chrono::hours(24 * 400);
  for (const auto& entry : fs::recursive_directory_iterator(elsewhere)) {
    if (!entry.is_symlink()) fs::last_write_time(entry.path(), past);
  }
  fs::permissions(elsewhere / "handler.py", fs::perms(0444));  // read-only is still "not executable"
  auto recreated = write_function_zip(elsewhere, scratch_.path() / "recreated.zip");
  ASSERT_TRUE(recreated.ok()) << recreated.error().message;
  EXPECT_EQ(recreated->sha256, original->sha256);
  EXPECT_EQ(*read_file(scratch_.path() / "recreated.zip"), *read_file(scratch_.path() / "original.zip"));
}

// DOS times are local times and libarchive picks the name encoding from the locale: neither the
// process's time zone nor its locale may reach the bytes.
TEST_F(FunctionZip, TimeZoneAndLocaleDoNotMatter) {
  make_function(scratch_.path() / "fn");
  auto original = write_function_zip(scratch_.path() / "fn", scratch_.path() / "original.zip");
  ASSERT_TRUE(original.ok()) << original.error().message;
  std::string saved_tz = std::getenv("TZ") ? std::getenv("TZ") : "";
  std::string saved_locale = std::setlocale(LC_ALL, nullptr);
  for (const char* zone : {"America/New_York", "Pacific/Kiritimati", "UTC"}) {
    for (const char* locale : {"C", "C.UTF-8"}) {
      ::setenv("TZ", zone, 1);
      ::tzset();
      std::setlocale(LC_ALL, locale);
      auto again = write_function_zip(scratch_.path() / "fn", scratch_.path() / "again.zip");
      ASSERT_TRUE(again.ok()) << again.error().message;
      EXPECT_EQ(again->sha256, original->sha256) << zone << " " << locale;
    }
  }
  if (saved_tz.empty()) ::unsetenv("TZ"); else ::setenv("TZ", saved_tz.c_str(), 1);
  ::tzset();
  std::setlocale(LC_ALL, saved_locale.c_str());
}

TEST_F(FunctionZip, AnyChangeChangesTheHash) {
  fs::path fn = scratch_.path() / "fn";
  make_function(fn);
  auto before = write_function_zip(fn, scratch_.path() / "before.zip");
  ASSERT_TRUE(before.ok()) << before.error().message;

  write(fn / "lib/util.py", std::string(20'000, 'x') + "!\n");
  auto content = write_function_zip(fn, scratch_.path() / "content.zip");
  ASSERT_TRUE(content.ok());
  EXPECT_NE(content->sha256, before->sha256);

  fs::permissions(fn / "handler.py", fs::perms::owner_exec, fs::perm_options::add);
  auto mode = write_function_zip(fn, scratch_.path() / "mode.zip");
  ASSERT_TRUE(mode.ok());
  EXPECT_NE(mode->sha256, content->sha256);

  fs::rename(fn / "empty", fn / "vacant");
  auto renamed = write_function_zip(fn, scratch_.path() / "renamed.zip");
  ASSERT_TRUE(renamed.ok());
  EXPECT_NE(renamed->sha256, mode->sha256);
}

TEST_F(FunctionZip, EntriesAreSortedWithFixedModesOwnersAndNoTimes) {
  make_function(scratch_.path() / "fn");
  ASSERT_TRUE(write_function_zip(scratch_.path() / "fn", scratch_.path() / "fn.zip").ok());
  std::vector<ListedEntry> entries = list_zip(scratch_.path() / "fn.zip");
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.name);
  std::vector<std::string> expected = {"bin/",          "bin/run",       "data/",
                                       "data/\xC3\xA9t\xC3\xA9.json", "empty/", "handler.py",
                                       "lib/",          "lib/a-b.txt",   "lib/current.py",
                                       "lib/util.py"};
  EXPECT_EQ(names, expected);
  std::map<std::string, mode_t> modes;
  for (const auto& entry : entries) {
    modes[entry.name] = entry.mode;
    EXPECT_EQ(entry.uid, 0) << entry.name;
    EXPECT_EQ(entry.gid, 0) << entry.name;
    EXPECT_FALSE(entry.has_owner_name) << entry.name;
  }
  EXPECT_EQ(modes["bin/"], mode_t(S_IFDIR | 0755));
  EXPECT_EQ(modes["bin/run"], mode_t(S_IFREG | 0755));
  EXPECT_EQ(modes["handler.py"], mode_t(S_IFREG | 0644));
  EXPECT_EQ(modes["lib/current.py"], mode_t(S_IFLNK | 0777));
  EXPECT_EQ(entries[8].link, "util.py");

  // Every local header carries the DOS time 00:00:00 and date 1980-01-01 (0x0000, 0x0021).
  std::string bytes = *read_file(scratch_.path() / "fn.zip");
  size_t headers = 0;
  for (size_t at = bytes.find("PK\x03\x04"); at != std::string::npos; at = bytes.find("PK\x03\x04", at + 4)) {
    ++headers;
    EXPECT_EQ(bytes.substr(at + 10, 4), std::string("\x00\x00\x21\x00", 4)) << "header at " << at;
  }
  EXPECT_EQ(headers, expected.size());
}

TEST_F(FunctionZip, RefusesLinksThatLeaveTheFolder) {
  fs::path fn = scratch_.path() / "fn";
  write(fn / "handler.py", "ok\n");
  write(scratch_.path() / "secret.txt", "outside\n");
  fs::create_symlink("../secret.txt", fn / "escape");
  auto escaping = write_function_zip(fn, scratch_.path() / "fn.zip");
  ASSERT_FALSE(escaping.ok());
  EXPECT_NE(escaping.error().message.find("escape"), std::string::npos) << escaping.error().message;
  EXPECT_NE(escaping.error().message.find("outside the folder"), std::string::npos) << escaping.error().message;
  EXPECT_FALSE(fs::exists(scratch_.path() / "fn.zip")) << "nothing is left behind";

  fs::remove(fn / "escape");
  fs::create_symlink(fn / "handler.py", fn / "absolute");
  EXPECT_FALSE(write_function_zip(fn, scratch_.path() / "fn.zip").ok()) << "absolute, even inside";

  fs::remove(fn / "absolute");
  fs::create_directories(fn / "sub");
  fs::create_symlink("../../fn/handler.py", fn / "sub/roundabout");
  EXPECT_FALSE(write_function_zip(fn, scratch_.path() / "fn.zip").ok())
      << "points inside on disk, outside once extracted anywhere else";

  fs::remove(fn / "sub/roundabout");
  fs::create_symlink("../handler.py", fn / "sub/up-and-in");
  auto inside = write_function_zip(fn, scratch_.path() / "fn.zip");
  EXPECT_TRUE(inside.ok()) << inside.error().message;
}

TEST_F(FunctionZip, RefusesSpecialFilesAndBadPlaces) {
  fs::path fn = scratch_.path() / "fn";
  write(fn / "handler.py", "ok\n");
  ASSERT_EQ(::mkfifo((fn / "pipe").c_str(), 0600), 0);
  auto fifo = write_function_zip(fn, scratch_.path() / "fn.zip");
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("pipe"), std::string::npos) << fifo.error().message;
  fs::remove(fn / "pipe");

  write(fn / "bad\xFFname", "x");
  EXPECT_FALSE(write_function_zip(fn, scratch_.path() / "fn.zip").ok()) << "not UTF-8";
  fs::remove(fn / "bad\xFFname");

  auto into_itself = write_function_zip(fn, fn / "fn.zip");
  ASSERT_FALSE(into_itself.ok());
  EXPECT_NE(into_itself.error().message.find("inside the folder"), std::string::npos);

  auto missing = write_function_zip(scratch_.path() / "nope", scratch_.path() / "fn.zip");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);

  auto unwritable = write_function_zip(fn, scratch_.path() / "no/such/dir/fn.zip");
  ASSERT_FALSE(unwritable.ok());
  EXPECT_NE(unwritable.error().message.find("cannot create"), std::string::npos) << unwritable.error().message;
}

TEST_F(FunctionZip, AnEmptyFolderGivesAnEmptyZip) {
  fs::create_directories(scratch_.path() / "fn");
  auto empty = write_function_zip(scratch_.path() / "fn", scratch_.path() / "fn.zip");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->files, 0);
  EXPECT_EQ(empty->bytes, 22) << "only the end-of-central-directory record, no padding";
}

}  // namespace
}  // namespace slipway
