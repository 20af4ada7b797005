// The build context sent to the Docker Engine: .dockerignore rules as Docker reads them, a
// sorted tar whose bytes depend only on the files' contents, and symlinks that never lead out.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>

#include "base/files.h"
#include "publish/build_context.h"
#include "publish/dockerignore.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

TEST(DockerIgnoreTest, StarMatchesWithinOneFolderOnly) {
  DockerIgnore ignore = DockerIgnore::parse("*.log\n");
  EXPECT_TRUE(ignore.excludes("debug.log"));
  EXPECT_FALSE(ignore.excludes("logs/debug.log"));
  EXPECT_FALSE(ignore.excludes("debug.log.txt"));
}

TEST(DockerIgnoreTest, QuestionMarkIsOneCharacterButNotASlash) {
  DockerIgnore ignore = DockerIgnore::parse("file?.txt\n");
  EXPECT_TRUE(ignore.excludes("file1.txt"));
  EXPECT_FALSE(ignore.excludes("file12.txt"));
  EXPECT_FALSE(DockerIgnore::parse("a?b\n").excludes("a/b"));
}

TEST(DockerIgnoreTest, DoubleStarCrossesAnyNumberOfFolders) {
  DockerIgnore ignore = DockerIgnore::parse("**/*.pyc\n");
  EXPECT_TRUE(ignore.excludes("x.pyc"));
  EXPECT_TRUE(ignore.excludes("a/b/c/x.pyc"));
  EXPECT_FALSE(ignore.excludes("a/b/x.py"));
  EXPECT_TRUE(DockerIgnore::parse("docs/**\n").excludes("docs/a/b.md"));
  EXPECT_TRUE(DockerIgnore::parse("a/**/z\n").excludes("a/z"));
  EXPECT_TRUE(DockerIgnore::parse("a/**/z\n").excludes("a/b/c/z"));
}

TEST(DockerIgnoreTest, AFolderRuleCoversEverythingInside) {
  DockerIgnore ignore = DockerIgnore::parse("node_modules\n/build/\n./tmp\n");
  EXPECT_TRUE(ignore.excludes("node_modules"));
  EXPECT_TRUE(ignore.excludes("node_modules/left-pad/index.js"));
  EXPECT_TRUE(ignore.excludes("build/hello"));
  EXPECT_TRUE(ignore.excludes("tmp/x"));
  EXPECT_FALSE(ignore.excludes("src/node_modules.txt"));
}

TEST(DockerIgnoreTest, LastMatchingRuleWinsAndExceptionsBringFilesBack) {
  DockerIgnore ignore = DockerIgnore::parse("*.md\n!README.md\nREADME*\n!README.txt\n");
  EXPECT_TRUE(ignore.has_exceptions());
  EXPECT_TRUE(ignore.excludes("CHANGES.md"));
  EXPECT_TRUE(ignore.excludes("README.md"));   // "README*" comes after the exception
  EXPECT_FALSE(ignore.excludes("README.txt"));
  EXPECT_FALSE(ignore.excludes("main.cpp"));
}

TEST(DockerIgnoreTest, CommentsBlankLinesAndSpacesAreNotRules) {
  DockerIgnore ignore = DockerIgnore::parse("# *.cpp is kept\n\n   \n  secret.env  \n");
  EXPECT_FALSE(ignore.excludes("main.cpp"));
  EXPECT_FALSE(ignore.excludes("# *.cpp is kept"));
  EXPECT_TRUE(ignore.excludes("secret.env"));
  EXPECT_FALSE(DockerIgnore::parse("").excludes("anything"));
}

TEST(DockerIgnoreTest, ClassesEscapesAndBrokenPatterns) {
  EXPECT_TRUE(DockerIgnore::parse("[ab].txt\n").excludes("a.txt"));
  EXPECT_FALSE(DockerIgnore::parse("[ab].txt\n").excludes("c.txt"));
  EXPECT_TRUE(DockerIgnore::parse("[!ab].txt\n").excludes("c.txt"));
  EXPECT_TRUE(DockerIgnore::parse("\\*.txt\n").excludes("*.txt"));
  EXPECT_FALSE(DockerIgnore::parse("\\*.txt\n").excludes("a.txt"));
  EXPECT_FALSE(DockerIgnore::parse("a.c\n").excludes("abc"));  // '.' is not a wildcard
  EXPECT_FALSE(DockerIgnore::parse("[unclosed\n").excludes("[unclosed"));
}

// A folder of files for a context, written one by one.
class ContextFolder {
 public:
  ContextFolder() : folder_("slipway-context") {}
  const fs::path& path() const { return folder_.path(); }
  void write(const std::string& relative, const std::string& content) {
    fs::create_directories((path() / relative).parent_path());
    std::ofstream(path() / relative, std::ios::binary) << content;
  }
  void link(const std::string& relative, const std::string& target) {
    fs::create_directories((path() / relative).parent_path());
    fs::create_symlink(target, path() / relative);
  }

 private:
  TemporaryDirectory folder_;
};

std::vector<std::string> paths_of(const std::vector<BuildContextEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& entry : entries) paths.push_back(entry.path);
  return paths;
}

struct TarMember {
  std::string path;
  int type = 0;
  int perm = 0;
  int64_t mtime = -1;
  int64_t uid = -1;
  std::string link;
  std::string data;
};

std::vector<TarMember> read_tar(const fs::path& tar) {
  std::vector<TarMember> members;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_filename(a, tar.c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    TarMember member{archive_entry_pathname(entry), static_cast<int>(archive_entry_filetype(entry)),
                     static_cast<int>(archive_entry_perm(entry)), archive_entry_mtime(entry), archive_entry_uid(entry)};
    if (archive_entry_symlink(entry)) member.link = archive_entry_symlink(entry);
    member.data.resize(static_cast<size_t>(archive_entry_size(entry)));
    if (!member.data.empty()) archive_read_data(a, member.data.data(), member.data.size());
    members.push_back(member);
  }
  archive_read_free(a);
  return members;
}

TEST(BuildContextTest, ListsSortedEntriesAndHonoursDockerignore) {
  ContextFolder context;
  context.write("Dockerfile", "FROM scratch\nCOPY . /\n");
  context.write(".dockerignore", "*.env\nbuild\n!build/keep.txt\n# the Dockerfile cannot be ignored\nDockerfile\n");
  context.write("src/z.cpp", "z");
  context.write("src/a.cpp", "a");
  context.write("src-notes.txt", "-");
  context.write("secret.env", "TOKEN=1");
  context.write("build/hello", "binary");
  context.write("build/keep.txt", "kept");
  auto entries = list_build_context(context.path());
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  EXPECT_EQ(paths_of(*entries), (std::vector<std::string>{".dockerignore", "Dockerfile", "build/keep.txt", "src",
                                                          "src-notes.txt", "src/a.cpp", "src/z.cpp"}));
}

TEST(BuildContextTest, ExcludedFoldersAreSkippedWhole) {
  ContextFolder context;
  context.write("Dockerfile", "FROM scratch\n");
  context.write(".dockerignore", ".git\n");
  context.write(".git/objects/ab/cdef", "x");
  context.write("app.py", "print()");
  auto entries = list_build_context(context.path());
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  EXPECT_EQ(paths_of(*entries), (std::vector<std::string>{".dockerignore", "Dockerfile", "app.py"}));
}

TEST(BuildContextTest, TheTarIsDeterministicWithFixedOwnersTimesAndModes) {
  ContextFolder context;
  context.write("Dockerfile", "FROM scratch\n");
  context.write("bin/run", "#!/bin/sh\n");
  fs::permissions(context.path() / "bin/run", fs::perms::owner_all | fs::perms::group_read);
  context.write("data/b.txt", "bee");
  context.write("data/a.txt", "ay");
  context.link("data/latest", "a.txt");
  TemporaryDirectory out("slipway-context-out");
  ASSERT_TRUE(write_build_context(context.path(), out.path() / "one.tar").ok());
  fs::last_write_time(context.path() / "data/a.txt", fs::file_time_type::clock::now() - std::chrono::hours(48));
  ASSERT_TRUE(write_build_context(context.path(), out.path() / "two.tar").ok());
  EXPECT_EQ(*read_file(out.path() / "one.tar"), *read_file(out.path() / "two.tar"));

  auto members = read_tar(out.path() / "one.tar");
  std::vector<std::string> order;
  for (const auto& member : members) order.push_back(member.path);
  EXPECT_EQ(order, (std::vector<std::string>{"Dockerfile", "bin/", "bin/run", "data/", "data/a.txt", "data/b.txt",
                                             "data/latest"}));
  for (const auto& member : members) {
    EXPECT_EQ(member.mtime, 0) << member.path;
    EXPECT_EQ(member.uid, 0) << member.path;
  }
  EXPECT_EQ(members[1].type, AE_IFDIR);
  EXPECT_EQ(members[1].perm, 0755);
  EXPECT_EQ(members[2].perm, 0755);     // executable stays executable
  EXPECT_EQ(members[4].perm, 0644);
  EXPECT_EQ(members[5].data, "bee");
  EXPECT_EQ(members[6].type, AE_IFLNK);
  EXPECT_EQ(members[6].link, "a.txt");  // sent as a link, not followed
}

TEST(BuildContextTest, ASymlinkOutOfTheFolderIsRefused) {
  ContextFolder context;
  context.write("Dockerfile", "FROM scratch\n");
  context.link("passwd", "/etc/passwd");
  auto absolute = list_build_context(context.path());
  ASSERT_FALSE(absolute.ok());
  EXPECT_NE(absolute.error().message.find("passwd: a symlink to /etc/passwd, outside the build context"),
            std::string::npos)
      << absolute.error().message;

  fs::remove(context.path() / "passwd");
  context.link("sub/up", "../../outside");
  auto climbing = list_build_context(context.path());
  ASSERT_FALSE(climbing.ok());
  EXPECT_NE(climbing.error().message.find("sub/up: a symlink to ../../outside"), std::string::npos);
  TemporaryDirectory out("slipway-context-out");
  EXPECT_FALSE(write_build_context(context.path(), out.path() / "c.tar").ok());

  // Inside is fine, and so is an escaping link the .dockerignore leaves out.
  fs::remove(context.path() / "sub/up");
  context.link("sub/sibling", "../Dockerfile");
  context.link("sub/ignored", "/etc");
  context.write(".dockerignore", "sub/ignored\n");
  auto kept = list_build_context(context.path());
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(paths_of(*kept), (std::vector<std::string>{".dockerignore", "Dockerfile", "sub", "sub/sibling"}));
}

TEST(BuildContextTest, TheDockerfileMustBeInsideAndPresent) {
  ContextFolder context;
  context.write("docker/app.Dockerfile", "FROM scratch\n");
  context.write(".dockerignore", "docker\n");
  EXPECT_FALSE(list_build_context(context.path()).ok());  // no ./Dockerfile
  auto missing = list_build_context(context.path(), "Dockerfile");
  EXPECT_NE(missing.error().message.find("no such Dockerfile"), std::string::npos);
  EXPECT_FALSE(list_build_context(context.path(), "../Dockerfile").ok());
  EXPECT_FALSE(list_build_context(context.path() / "absent", "Dockerfile").ok());
  auto other = list_build_context(context.path(), "docker/app.Dockerfile");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(paths_of(*other), (std::vector<std::string>{".dockerignore", "docker/app.Dockerfile"}));
}

}  // namespace
}  // namespace slipway
