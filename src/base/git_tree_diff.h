// What differs between two commits' trees, path by path: the paths `git diff-tree -r
// --no-renames` names, read through GitObjects (the repository's running `git cat-file`) rather
// than a git process per diff. Subtrees whose ids are equal are never read, so a push that
// changes one file costs the reads of the trees on that file's path.
//
// A path whose kind changed (a file that became a folder, or the reverse) is a removal of what
// was there and an addition of what is there now, as git reports it. Submodules are entries, not
// descended into.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/git_objects.h"
#include "base/result.h"

namespace slipway {

struct GitPathChange {
  std::string path;  // from the tree's root, '/'-separated
  std::string mode;  // the path's mode in `to`; "" when it is not there any more
  std::string id;    // its object in `to`; "" when removed
  bool removed() const { return mode.empty(); }
};

// Every path added, changed or removed from the commit `from` to the commit `to`. Error when
// either is not a commit of the repository, a tree cannot be read, or a tree it reads holds a
// name that no checkout can have ("", ".", "..", or one with '/': only a crafted tree does).
Result<std::vector<GitPathChange>> diff_commit_trees(GitObjects& objects, std::string_view from, std::string_view to);

}  // namespace slipway
