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

// Whether the environment the process was started with holds exactly `entry` ("NAME=value").
// `nothing` is an environment that reads empty: one started empty (`env -i`), or one the
// process does not have yet because it is inside execve() (the new image's environment is set
// up after its memory is), or a process that is gone or a zombie (no memory left). A caller
// that must not miss a process in the middle of execve() looks again at `nothing`.
enum class EnvironmentLook { holds, lacks, nothing };
EnvironmentLook look_for_environment_entry(pid_t pid, std::string_view entry);

// True when one of the process's environment entries starts with `prefix` ("NAME=abc").
bool environment_has_prefix(pid_t pid, std::string_view prefix);

}  // namespace slipway
