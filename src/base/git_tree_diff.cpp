#include "base/git_tree_diff.h"

#include <fmt/core.h>

#include <map>
#include <utility>

namespace slipway {

namespace {

constexpr std::string_view kTreeMode = "40000";

// Two trees to compare under one folder; an empty id stands for "no tree on that side".
struct TreePair {
  std::string from, to, folder;
};

// A name git itself would never write into a tree, nor check out: a crafted tree object can hold
// one, and the paths named here are removed from, and written into, a folder on the server.
bool is_checkout_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

Result<std::vector<GitTreeEntry>> entries_of(GitObjects& objects, const std::string& tree) {
  if (tree.empty()) return std::vector<GitTreeEntry>{};
  auto entries = objects.tree_entries(tree);
  if (!entries) return entries.error();
  for (const GitTreeEntry& entry : *entries) {
    if (!is_checkout_name(entry.name)) {
      return make_error(fmt::format("the tree {} holds an entry no checkout can have (a name that is empty, '.', "
                                    "'..' or holds '/')", tree));
    }
  }
  return entries;
}

// Compares one pair: leaves become changes, differing subtrees more pairs.
Status compare(GitObjects& objects, const TreePair& pair, std::vector<TreePair>& pending,
               std::vector<GitPathChange>& changes) {
  auto before = entries_of(objects, pair.from);
  if (!before) return before.error();
  auto after = entries_of(objects, pair.to);
  if (!after) return after.error();
  std::map<std::string, GitTreeEntry> removed;
  for (GitTreeEntry& entry : *before) removed.emplace(entry.name, std::move(entry));
  for (const GitTreeEntry& now : *after) {
    std::string path = pair.folder + now.name;
    const bool now_tree = now.mode == kTreeMode;
    auto was = removed.find(now.name);
    if (was != removed.end()) {
      GitTreeEntry old = std::move(was->second);
      removed.erase(was);
      if (old.mode == now.mode && old.id == now.id) continue;
      const bool old_tree = old.mode == kTreeMode;
      if (old_tree && now_tree) {
        pending.push_back({old.id, now.id, path + "/"});
        continue;
      }
      if (old_tree) pending.push_back({old.id, "", path + "/"});
      else if (now_tree) changes.push_back({path, "", ""});
    }
    if (now_tree) pending.push_back({"", now.id, path + "/"});
    else changes.push_back({path, now.mode, now.id});
  }
  for (const auto& [name, old] : removed) {
    if (old.mode == kTreeMode) pending.push_back({old.id, "", pair.folder + name + "/"});
    else changes.push_back({pair.folder + name, "", ""});
  }
  return {};
}

}  // namespace

Result<std::vector<GitPathChange>> diff_commit_trees(GitObjects& objects, std::string_view from, std::string_view to) {
  std::vector<GitPathChange> changes;
  // A work list rather than recursion: a repository's nesting depth is its author's to choose.
  std::vector<TreePair> pending = {{fmt::format("{}^{{tree}}", from), fmt::format("{}^{{tree}}", to), ""}};
  while (!pending.empty()) {
    TreePair pair = std::move(pending.back());
    pending.pop_back();
    if (Status compared = compare(objects, pair, pending, changes); !compared) return compared.error();
  }
  return changes;
}

}  // namespace slipway
