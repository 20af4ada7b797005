#include <cstdlib>

#include "cli/commands.h"

namespace slipway {

std::filesystem::path GlobalOptions::resolved_data_dir() const {
  // Absolute, as `serve` makes it: workspaces, the sandbox's binds and the paths stored in runs
  // must not depend on the folder a later command starts in (a relative one failed every run:
  // "the step's workspace 'reldd/runs/1/workspace' is not an absolute path").
  auto absolute = [](const std::filesystem::path& path) { return std::filesystem::absolute(path); };
  if (!data_dir.empty()) return absolute(data_dir);
  if (const char* from_env = std::getenv("SLIPWAY_DATA_DIR"); from_env && *from_env) return absolute(from_env);
  // The XDG location keeps one machine's history in one place, whichever folder a run starts in.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return absolute(std::filesystem::path(xdg) / "slipway");
  const char* home = std::getenv("HOME");
  return absolute(std::filesystem::path(home && *home ? home : "/tmp") / ".local/share/slipway");
}

}  // namespace slipway
