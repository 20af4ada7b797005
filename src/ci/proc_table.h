// The process table as Linux shows it in /proc: the few fields of /proc/PID/stat that tell who
// is whose parent, group and session, and a look into a process's environment. Everything
// Linux-specific about finding processes is here.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>
#include <vector>

namespace slipway {

struct ProcEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  char state = '?';                   // 'Z' for a zombie, 'X' when dead
  unsigned long long start_time = 0;  // clock ticks after boot: with pid, a unique identity
  bool zombie() const { return state == 'Z' || state == 'X'; }
};

// Every process visible in /proc. Processes that vanish while it reads are left out.
std::vector<ProcEntry> read_process_table();

// One process, or nothing if it is gone.
std::optional<ProcEntry> read_process(pid_t pid);

// True when the environment the process was started with holds exactly `entry`
// ("NAME=value"). False when it does not, when it is gone, or for a zombie (no memory left).
bool environment_contains(pid_t pid, std::string_view entry);

// True when one of the process's environment entries starts with `prefix` ("NAME=abc").
bool environment_has_prefix(pid_t pid, std::string_view prefix);

}  // namespace slipway
