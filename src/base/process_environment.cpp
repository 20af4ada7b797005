#include "base/process_environment.h"

#include <cstring>
#include <cstdlib>
#include <string_view>
#include <vector>

extern char** environ;

namespace slipway {

std::vector<std::string> helper_environment() {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) entries.emplace_back(*entry);
  return entries;
}

std::optional<std::string> take_environment_variable(const std::string& name) {
  std::optional<std::string> value;
  // The entries are found in `environ` itself: getenv() gives only the first of duplicates.
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    if (text.size() <= name.size() || text[name.size()] != '=' || text.substr(0, name.size()) != name) continue;
    if (!value) value = std::string(text.substr(name.size() + 1));
    entries.push_back(text);
  }
  ::unsetenv(name.c_str());
  // The strings stay where they were (the initial ones on the stack, where /proc/PID/environ
  // reads them; setenv()'s on the heap, which glibc never frees): now that nothing points at
  // them, their bytes are wiped — name too, so not even the variable's presence shows.
  for (std::string_view entry : entries) ::explicit_bzero(const_cast<char*>(entry.data()), entry.size());
  return value;
}

}  // namespace slipway
