#include "publish/remote_tags.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {

Result<std::string> run_git_noninteractive(std::vector<std::string> arguments,
                                           const std::filesystem::path& working_directory) {
  // `env` sets the variable for git alone, without a shell; GIT_TERMINAL_PROMPT=0 makes git
  // fail instead of opening /dev/tty to ask for a username.
  arguments.insert(arguments.begin(), {"env", "GIT_TERMINAL_PROMPT=0", "git"});
  return run_command_checked(arguments, working_directory, "git " + arguments[3]);
}

Result<std::vector<RemoteTag>> list_remote_tags(std::string_view repository) {
  if (repository.empty() || repository.starts_with('-')) {
    return make_error(fmt::format("'{}' is not a repository path or URL", repository));
  }
  auto listing = run_git_noninteractive({"ls-remote", "--tags", "--", std::string(repository)}, {});
  if (!listing) {
    return make_error(fmt::format("cannot read the tags of {}: {}", repository, listing.error().message));
  }
  // "<sha>\trefs/tags/<name>", then "<sha>\trefs/tags/<name>^{}" (what it peels to) for an
  // annotated tag.
  std::map<std::string, RemoteTag> tags;
  for (const std::string& line : split(*listing, '\n')) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos || line.compare(tab + 1, 10, "refs/tags/") != 0) continue;
    std::string object = line.substr(0, tab);
    std::string name = line.substr(tab + 11);
    if (name.ends_with("^{}")) {
      tags[name.substr(0, name.size() - 3)].commit = object;
    } else {
      RemoteTag& tag = tags[name];
      tag.name = name;
      tag.object = object;
      if (tag.commit.empty()) tag.commit = object;
    }
  }
  std::vector<RemoteTag> sorted;
  for (auto& [name, tag] : tags) {
    if (!tag.name.empty()) sorted.push_back(std::move(tag));
  }
  return sorted;
}

}  // namespace slipway
