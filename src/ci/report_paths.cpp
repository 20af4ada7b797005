// Glob expansion for `junit:` paths. The pattern comes from the repository, so it is treated as
// hostile: it must be relative and free of `..`, the walk never follows a symlinked directory
// that leads out of the workspace, and every match is checked once more, after resolving all
// symlinks, before it is returned. Like a shell, wildcards do not match names starting with '.'.
#include "ci/report_paths.h"

#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxEntriesVisited = 200'000;

Error escapes(std::string_view pattern) {
  return make_error(fmt::format(
      "report path '{}' escapes the workspace: use a path inside the repository", pattern));
}

bool has_wildcard(std::string_view component) {
  return component.find_first_of("*?[") != std::string_view::npos;
}

// "reports/./unit/*.xml" → {"reports", "unit", "*.xml"}.
Result<std::vector<std::string>> split_pattern(std::string_view pattern) {
  if (trim(pattern).empty()) return make_error("report path is empty");
  if (pattern.front() == '/') return escapes(pattern);
  std::vector<std::string> components;
  for (std::string& part : split(pattern, '/')) {
    if (part == "..") return escapes(pattern);
    if (!part.empty() && part != ".") components.push_back(std::move(part));
  }
  if (components.empty()) return make_error(fmt::format("report path '{}' names no file", pattern));
  return components;
}

// Walks the workspace component by component. Matches are collected relative to the
// workspace; the checks that they stay inside it and are regular files come afterwards.
class GlobWalker {
 public:
  GlobWalker(const fs::path& workspace, std::string_view pattern, std::vector<std::string> parts)
      : workspace_(workspace), pattern_(pattern), parts_(std::move(parts)) {}

  Result<std::vector<fs::path>> run() {
    if (Status walked = walk(fs::path(), 0); !walked) return walked.error();
    return std::move(found_);
  }

 private:
  Status walk(const fs::path& relative, size_t index) {
    if (index == parts_.size()) {
      found_.push_back(relative);
      return {};
    }
    if (std::distance(relative.begin(), relative.end()) > static_cast<ptrdiff_t>(kMaxDepth)) {
      return {};
    }
    const std::string& part = parts_[index];
    if (part == "**") return walk_any_depth(relative, index);
    if (!has_wildcard(part)) return step_into(relative / part, index, /*named=*/true);
    return for_each_entry(relative, [&](const fs::directory_entry& entry) -> Status {
      std::string name = entry.path().filename().string();
      if (::fnmatch(part.c_str(), name.c_str(), FNM_PERIOD) != 0) return {};
      return step_into(relative / name, index, /*named=*/false);
    });
  }

  // `**`: this directory, then every real (non-symlink, non-hidden) directory below it.
  // Symlinked directories are never entered here: they could loop or lead anywhere.
  Status walk_any_depth(const fs::path& relative, size_t index) {
    if (Status s = walk(relative, index + 1); !s) return s;
    return for_each_entry(relative, [&](const fs::directory_entry& entry) -> Status {
      std::error_code error;
      std::string name = entry.path().filename().string();
      if (name.starts_with('.') || !entry.is_directory(error) || entry.is_symlink(error)) return {};
      return walk(relative / name, index);
    });
  }

  // `candidate` matched component `index`: record it if it is the last one, else descend.
  // A symlinked directory named literally in the pattern that leads outside is an error; one
  // merely matched by a wildcard is skipped.
  Status step_into(const fs::path& candidate, size_t index, bool named) {
    std::error_code error;
    fs::path absolute = workspace_ / candidate;
    if (!fs::exists(fs::symlink_status(absolute, error))) return {};
    if (index + 1 == parts_.size()) return walk(candidate, index + 1);
    if (!fs::is_directory(fs::status(absolute, error))) return {};
    if (fs::is_symlink(fs::symlink_status(absolute, error)) && !path_is_within(workspace_, absolute)) {
      if (!named) return {};
      return make_error(fmt::format("report path '{}' goes through '{}', a symlink that leads "
                                    "outside the workspace", pattern_, candidate.string()));
    }
    return walk(candidate, index + 1);
  }

  template <typename Visit>
  Status for_each_entry(const fs::path& relative, Visit visit) {
    std::error_code error;
    fs::directory_iterator it(workspace_ / relative, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
      if (++visited_ > kMaxEntriesVisited) {
        return make_error(fmt::format("report path '{}' searched more than {} files: use a "
                                      "narrower pattern", pattern_, kMaxEntriesVisited));
      }
      if (Status s = visit(*it); !s) return s;
    }
    return {};  // an unreadable directory simply has no matches
  }

  fs::path workspace_;
  std::string_view pattern_;
  std::vector<std::string> parts_;
  std::vector<fs::path> found_;
  size_t visited_ = 0;
};

}  // namespace

Result<std::vector<fs::path>> resolve_report_paths(const fs::path& workspace,
                                                   std::string_view pattern) {
  auto parts = split_pattern(pattern);
  if (!parts) return parts.error();
  auto matches = GlobWalker(workspace, pattern, std::move(*parts)).run();
  if (!matches) return matches.error();

  std::vector<fs::path> files;
  for (const fs::path& relative : *matches) {
    fs::path absolute = workspace / relative;
    if (!path_is_within(workspace, absolute)) {
      return make_error(fmt::format("report path '{}' matches '{}', which leads outside the "
                                    "workspace through a symlink", pattern, relative.string()));
    }
    std::error_code error;
    if (fs::is_regular_file(fs::status(absolute, error))) files.push_back(std::move(absolute));
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace slipway
