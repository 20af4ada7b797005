#include "ci/run_queue_git.h"

#include <optional>

#include <fmt/core.h>

#include "base/git_objects.h"
#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {

namespace {

constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kHeadsPrefix = "refs/heads/";

bool is_forbidden_character(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' ||
         c == '[' || c == '\\';
}

// The per-component rules of git-check-ref-format(1).
Status check_component(std::string_view name, std::string_view component) {
  if (component.empty()) return make_error(fmt::format("branch name '{}' has an empty path component", name));
  if (component.front() == '.') return make_error(fmt::format("branch name '{}' has a component starting with '.'", name));
  if (component.ends_with(".lock")) return make_error(fmt::format("branch name '{}' has a component ending in '.lock'", name));
  return {};
}

}  // namespace

std::filesystem::path repository_path(std::string_view url) {
  if (url.starts_with(kFileScheme)) url.remove_prefix(kFileScheme.size());
  return std::filesystem::path(url);
}

Status check_branch_name(std::string_view name) {
  if (name.empty()) return make_error("the branch name is empty");
  if (name.front() == '-') return make_error(fmt::format("branch name '{}' starts with '-'", name));
  if (name == "@") return make_error("'@' is not a valid branch name");
  for (unsigned char c : name) {
    if (is_forbidden_character(c)) {
      return make_error(fmt::format("branch name '{}' holds a character git forbids in branch names "
                                    "(space, control character, ~ ^ : ? * [ or \\)", name));
    }
  }
  if (name.find("..") != std::string_view::npos || name.find("@{") != std::string_view::npos) {
    return make_error(fmt::format("branch name '{}' holds '..' or '@{{', which git forbids", name));
  }
  if (name.back() == '.') return make_error(fmt::format("branch name '{}' ends with '.'", name));
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view component = name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (Status ok = check_component(name, component); !ok) return ok;
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

namespace {

// True when `sha` is the tip of `branch`: on it, without asking git to walk the history (a
// webhook's commit is nearly always the branch's new head).
bool is_branch_head(const std::filesystem::path& path, const std::string& branch, const std::string& sha) {
  auto head = GitObjects::of(path)->info(std::string(kHeadsPrefix) + branch + "^{commit}");
  return head && *head && (*head)->id == sha;
}

}  // namespace

Result<std::string> resolve_trigger_commit(std::string_view url, const std::string& commit,
                                           const std::string& branch) {
  std::filesystem::path path = repository_path(url);
  std::string revision = commit.empty() ? std::string(kHeadsPrefix) + branch : commit;
  // Through the repository's long-lived `git cat-file` (no git process per trigger); a revision
  // is sent as a whole line, so one starting with '-' is no option.
  auto found = GitObjects::of(path)->info(revision + "^{commit}");
  std::optional<std::string> sha;
  if (found && *found) sha = (*found)->id;
  if (sha && !commit.empty() && !branch.empty() && !is_branch_head(path, branch, *sha)) {
    // A run is recorded on its branch, and the branch decides where it may publish (production
    // only from main): a commit named with a branch must really be on it.
    auto on_branch = run_command({"git", "-C", path.string(), "merge-base", "--is-ancestor", "--end-of-options",
                                  *sha, std::string(kHeadsPrefix) + branch});
    if (!on_branch || on_branch->exit_code != 0) {
      return make_error(fmt::format("commit {} is not on branch '{}' of {}: name the branch it is on (--branch)",
                                    commit, branch, path.string()));
    }
  }
  if (sha) return *sha;
  if (!std::filesystem::exists(path)) {
    return make_error(fmt::format("repository {} does not exist: check its url in the server configuration", path.string()));
  }
  if (commit.empty()) return make_error(fmt::format("{}: no branch '{}'", path.string(), branch));
  return make_error(fmt::format("{}: no commit '{}'", path.string(), commit));
}

Result<BranchHeads> list_remote_heads(std::string_view url) {
  auto listed = run_command_checked({"git", "ls-remote", "--heads", "--", std::string(url)});
  if (!listed) return make_error(fmt::format("cannot list the branches of {}: {}", url, listed.error().message));
  return parse_remote_heads(*listed);
}

BranchHeads parse_remote_heads(std::string_view listing) {
  BranchHeads heads;
  for (const std::string& line_text : split(listing, '\n')) {
    std::string_view line = line_text;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string_view ref = line.substr(tab + 1);
    if (!ref.starts_with(kHeadsPrefix)) continue;
    ref.remove_prefix(kHeadsPrefix.size());
    heads.emplace(std::string(ref), std::string(line.substr(0, tab)));
  }
  return heads;
}

}  // namespace slipway
