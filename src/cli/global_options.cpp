#include <cstdlib>

#include "cli/commands.h"

namespace slipway {

std::filesystem::path GlobalOptions::resolved_data_dir() const {
  if (!data_dir.empty()) return data_dir;
  if (const char* from_env = std::getenv("SLIPWAY_DATA_DIR"); from_env && *from_env) return from_env;
  // The XDG location keeps one machine's history in one place, whichever folder a run starts in.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "slipway";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/tmp") / ".local/share/slipway";
}

}  // namespace slipway
