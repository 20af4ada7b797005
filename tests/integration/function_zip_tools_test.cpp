// A function zip as the outside world reads it: Info-ZIP's unzip tests and extracts it (files,
// modes, the symlink, the 1980-01-01 times), zipinfo shows which extra fields libarchive wrote —
// only an empty extended-timestamp field and uid/gid 0, nothing that varies with time or host —
// and python's zipfile lists, tests and extracts the same bytes.
#include "publish/function_zip.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

CommandOutput run(const std::vector<std::string>& argv, const fs::path& directory = {}) {
  auto output = run_command(argv, directory);
  EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
  if (!output.ok()) return {};
  EXPECT_EQ(output->exit_code, 0) << argv[0] << ": " << output->out << output->err;
  return *output;
}

class FunctionZipTools : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path fn = folder();
    fs::create_directories(fn / "lib");
    fs::create_directories(fn / "empty");
    std::ofstream(fn / "handler.py") << "def handle(event, context):\n    return 'ok'\n";
    std::ofstream(fn / "lib/util.py") << std::string(50'000, 'u') << "\n";
    std::ofstream(fn / "run.sh") << "#!/bin/sh\necho hi\n";
    fs::permissions(fn / "run.sh", fs::perms(0700));
    fs::create_symlink("util.py", fn / "lib/current.py");
    auto summary = write_function_zip(fn, zip());
    ASSERT_TRUE(summary.ok()) << summary.error().message;
  }

  fs::path folder() const { return scratch_.path() / "fn"; }
  fs::path zip() const { return scratch_.path() / "fn.zip"; }

  TemporaryDirectory scratch_{"slipway-zip-tools"};
};

TEST_F(FunctionZipTools, UnzipTestsAndExtractsItFaithfully) {
  CommandOutput tested = run({"unzip", "-t", zip().string()});
  EXPECT_NE(tested.out.find("No errors detected"), std::string::npos) << tested.out;

  fs::path out = scratch_.path() / "out";
  fs::create_directories(out);
  run({"unzip", "-q", zip().string(), "-d", out.string()});
  EXPECT_EQ(*read_file(out / "handler.py"), *read_file(folder() / "handler.py"));
  EXPECT_EQ(*read_file(out / "lib/util.py"), *read_file(folder() / "lib/util.py"));
  EXPECT_TRUE(fs::is_directory(out / "empty"));
  EXPECT_EQ(fs::status(out / "run.sh").permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(out / "handler.py").permissions(), fs::perms(0644));
  ASSERT_TRUE(fs::is_symlink(out / "lib/current.py"));
  EXPECT_EQ(fs::read_symlink(out / "lib/current.py"), "util.py");

  CommandOutput short_list = run({"unzip", "-Z", zip().string()});
  EXPECT_NE(short_list.out.find("-rwxr-xr-x  2.0 unx       18 bX defN 80-Jan-01 00:00 run.sh"), std::string::npos)
      << short_list.out;
  EXPECT_NE(short_list.out.find("lrwxrwxrwx"), std::string::npos) << short_list.out;
}

TEST_F(FunctionZipTools, ZipinfoShowsNoTimeOrHostInTheExtraFields) {
  CommandOutput verbose = run({"zipinfo", "-v", zip().string()});
  std::string text = verbose.out;
  size_t entries = 0;
  for (size_t at = text.find("Central directory entry #"); at != std::string::npos;
       at = text.find("Central directory entry #", at + 1)) {
    ++entries;
  }
  EXPECT_EQ(entries, 6u) << text;
  // Every entry: the DOS time of the zip epoch, an extended-timestamp field holding only its
  // flags byte (no time), and uid/gid 0 as four-byte numbers.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("file last modified on (DOS date/time):          1980 Jan 1 00:00:00"), entries) << text;
  EXPECT_EQ(count("A subfield with ID 0x5455 (universal time) and 1 data bytes."), entries) << text;
  EXPECT_EQ(count("A subfield with ID 0x7875 (Unix UID/GID (any size)) and 11 data bytes:\n"
                  "    01 04 00 00 00 00 04 00 00 00 00."),
            entries)
      << text;
  EXPECT_EQ(count("A subfield with ID"), 2 * entries) << "no other extra field:\n" << text;
  EXPECT_EQ(count("file system or operating system of origin:      Unix"), entries);
  EXPECT_EQ(count("There is no zipfile comment."), 1u);
}

TEST_F(FunctionZipTools, PythonZipfileListsTestsAndExtractsIt) {
  CommandOutput listed = run({"python3", "-m", "zipfile", "-l", zip().string()});
  std::vector<std::string> names;
  for (const std::string& line : split(listed.out, '\n')) {
    if (line.empty() || starts_with(line, "File Name")) continue;
    names.push_back(std::string(line.substr(0, line.find(' '))));
    EXPECT_NE(line.find("1980-01-01 00:00:00"), std::string::npos) << line;
  }
  std::vector<std::string> expected = {"empty/", "handler.py", "lib/", "lib/current.py", "lib/util.py", "run.sh"};
  EXPECT_EQ(names, expected) << listed.out;

  run({"python3", "-m", "zipfile", "-t", zip().string()});
  fs::path out = scratch_.path() / "py-out";
  run({"python3", "-m", "zipfile", "-e", zip().string(), out.string()});
  EXPECT_EQ(*read_file(out / "lib/util.py"), *read_file(folder() / "lib/util.py"));
  EXPECT_EQ(*read_file(out / "handler.py"), *read_file(folder() / "handler.py"));
}

}  // namespace
}  // namespace slipway
