#include "ci/proc_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace slipway {

namespace {

// Reads a whole /proc file with plain syscalls: these files are small and read often while a
// step stops, and their size is not known in advance (st_size is 0).
bool read_proc_file(const std::string& path, std::string& content) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  content.clear();
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// /proc/PID/stat is "pid (comm) state ppid pgrp session ... starttime ...". The command name
// may hold spaces and parentheses, so parsing starts after the last ')'.
std::optional<ProcEntry> parse_stat(pid_t pid, const std::string& stat) {
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcEntry entry;
  entry.pid = pid;
  int fields = std::sscanf(stat.c_str() + close + 1,
                           " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                           "%*d %*d %llu",
                           &entry.state, &entry.ppid, &entry.pgid, &entry.sid, &entry.start_time);
  if (fields != 5) return std::nullopt;
  return entry;
}

}  // namespace

std::optional<ProcEntry> read_process(pid_t pid) {
  std::string stat;
  if (!read_proc_file("/proc/" + std::to_string(pid) + "/stat", stat)) return std::nullopt;
  return parse_stat(pid, stat);
}

std::vector<ProcEntry> read_process_table() {
  std::vector<ProcEntry> table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return table;
  while (dirent* item = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(item->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto entry = read_process(static_cast<pid_t>(pid))) table.push_back(*entry);
  }
  ::closedir(proc);
  return table;
}

namespace {

// Entries are NUL-separated: `text` must start an entry, and with `whole_entry` also end it.
EnvironmentLook environment_matches(pid_t pid, std::string_view text, bool whole_entry) {
  std::string environment;
  if (!read_proc_file("/proc/" + std::to_string(pid) + "/environ", environment) || environment.empty()) {
    return EnvironmentLook::nothing;
  }
  for (size_t at = environment.find(text); at != std::string::npos; at = environment.find(text, at + 1)) {
    bool starts = at == 0 || environment[at - 1] == '\0';
    size_t after = at + text.size();
    bool ends = after == environment.size() || environment[after] == '\0';
    if (starts && (ends || !whole_entry)) return EnvironmentLook::holds;
  }
  return EnvironmentLook::lacks;
}

}  // namespace

EnvironmentLook look_for_environment_entry(pid_t pid, std::string_view entry) {
  return environment_matches(pid, entry, true);
}

bool environment_has_prefix(pid_t pid, std::string_view prefix) {
  return environment_matches(pid, prefix, false) == EnvironmentLook::holds;
}

}  // namespace slipway
