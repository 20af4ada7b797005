// diff_commit_trees against git's own answer: for two commits that differ in every way a tree
// can (a file changed, added, removed; a mode changed; a link; a file that became a folder and a
// folder that became a file; a submodule; names git would read as patterns or options; nesting
// deeper than any real project), the paths and their new modes and objects are exactly what
// `git diff-tree -r --no-renames` prints.
#include "base/git_tree_diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/strings.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::ScratchRepository;

// "PATH MODE ID", or "PATH removed", sorted.
std::vector<std::string> lines_of(const std::vector<GitPathChange>& changes) {
  std::vector<std::string> lines;
  for (const GitPathChange& change : changes) {
    lines.push_back(change.removed() ? change.path + " removed" : change.path + " " + change.mode + " " + change.id);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// The same lines from `git diff-tree -r -z --raw --no-renames`.
std::vector<std::string> gits_lines(ScratchRepository& repo, const std::string& from, const std::string& to) {
  std::vector<std::string> fields = split(repo.git({"diff-tree", "-r", "-z", "--raw", "--no-renames", from, to}), '\0');
  if (!fields.empty() && fields.back().empty()) fields.pop_back();
  std::vector<std::string> lines;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::vector<std::string> words = split(fields[i], ' ');  // ":OLDMODE NEWMODE OLDID NEWID STATUS"
    lines.push_back(words[1] == "000000" ? fields[i + 1] + " removed"
                                         : fields[i + 1] + " " + words[1].substr(words[1].starts_with("0") ? 1 : 0) +
                                               " " + words[3]);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(GitTreeDiff, NamesWhatGitDiffTreeNames) {
  ScratchRepository repo;
  for (int i = 0; i < 30; ++i) repo.write("src/dir" + std::to_string(i % 3) + "/file" + std::to_string(i) + ".txt", "v1\n");
  repo.write("tool.sh", "#!/bin/sh\n");
  repo.write("becomes-folder", "a file\n");
  repo.write("becomes-file/inner/x.txt", "in a folder\n");
  repo.write("gone/deep/y.txt", "removed with its folders\n");
  std::string deep = "nest";
  for (int i = 0; i < 40; ++i) deep += "/n" + std::to_string(i);
  repo.write(deep + "/leaf.txt", "deep\n");
  std::string from = repo.commit("from");

  repo.write("src/dir1/file4.txt", "v2\n");
  repo.write("src/dir2/new.txt", "added\n");
  fs::remove(repo.path() / "src/dir0/file3.txt");
  fs::permissions(repo.path() / "tool.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("src/dir0/file0.txt", repo.path() / "link");
  fs::remove(repo.path() / "becomes-folder");
  repo.write("becomes-folder/now.txt", "a folder now\n");
  fs::remove_all(repo.path() / "becomes-file");
  repo.write("becomes-file", "a file now\n");
  fs::remove_all(repo.path() / "gone");
  repo.write(":(glob)*.txt", "a pattern to git\n");
  repo.write("-rf", "an option to git\n");
  repo.write(deep + "/leaf.txt", "deeper change\n");
  repo.commit("to, but for the submodule");
  // A submodule: a gitlink in the index, committed as it is (`add -A` would drop it).
  repo.git({"update-index", "--add", "--cacheinfo", "160000," + from + ",vendor/lib"});
  repo.git({"-c", "user.name=T", "-c", "user.email=t@slipway.invalid", "commit", "--quiet", "-m", "to"});
  std::string to = std::string(trim(repo.git({"rev-parse", "HEAD"})));

  GitObjects objects(repo.path());
  auto changes = diff_commit_trees(objects, from, to);
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  std::vector<std::string> expected = gits_lines(repo, from, to);
  ASSERT_EQ(expected.size(), 14u);
  EXPECT_EQ(lines_of(*changes), expected);
  // And back: every addition a removal.
  auto reverse = diff_commit_trees(objects, to, from);
  ASSERT_TRUE(reverse.ok()) << reverse.error().message;
  EXPECT_EQ(lines_of(*reverse), gits_lines(repo, to, from));
}

TEST(GitTreeDiff, TheSameTreeHasNoChangesAndAMissingCommitIsAnError) {
  ScratchRepository repo;
  repo.write("a.txt", "a\n");
  std::string first = repo.commit("first");
  std::string empty = repo.commit("no change");
  GitObjects objects(repo.path());
  auto none = diff_commit_trees(objects, first, empty);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  auto missing = diff_commit_trees(objects, std::string(40, 'a'), first);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no such tree"), std::string::npos) << missing.error().message;
}

// A tree object made by hand (git's own commands refuse to) whose entry is named ".." or holds a
// '/': refused, never a path to remove or write.
TEST(GitTreeDiff, ACraftedTreeWithANameNoCheckoutCanHaveIsRefused) {
  ScratchRepository repo;
  repo.write("a.txt", "a\n");
  std::string first = repo.commit("first");
  std::string blob = std::string(trim(repo.git({"rev-parse", first + ":a.txt"})));
  std::string raw_id;
  for (size_t i = 0; i < blob.size(); i += 2) raw_id += static_cast<char>(std::stoi(blob.substr(i, 2), nullptr, 16));
  for (const std::string name : {"..", "up/../../etc"}) {
    fs::path tree_file = repo.path() / ".git" / "crafted-tree";
    std::ofstream(tree_file, std::ios::binary) << "100644 " << name << '\0' << raw_id;
    std::string tree = std::string(trim(repo.git({"hash-object", "-t", "tree", "--literally", "-w", tree_file.string()})));
    std::string crafted = std::string(trim(repo.git({"commit-tree", tree, "-p", first, "-m", "crafted"})));
    GitObjects objects(repo.path());
    auto changes = diff_commit_trees(objects, first, crafted);
    ASSERT_FALSE(changes.ok()) << name;
    EXPECT_NE(changes.error().message.find("an entry no checkout can have"), std::string::npos) << changes.error().message;
  }
}

}  // namespace
}  // namespace slipway
