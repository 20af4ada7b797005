#include "ci/job_limits.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

const fs::path kCgroupRoot = "/sys/fs/cgroup";
constexpr int64_t kCpuPeriodMicros = 100'000;

// The v1 hierarchies a job uses, each only when mounted and writable.
std::vector<std::string> usable_v1_hierarchies() {
  std::vector<std::string> found;
  for (const char* name : {"memory", "pids", "cpu"}) {
    fs::path folder = kCgroupRoot / name;
    if (::access((folder / "cgroup.procs").c_str(), W_OK) == 0) found.push_back(name);
  }
  return found;
}

LimitMechanism detect_mechanism() {
  if (::access((kCgroupRoot / "cgroup.controllers").c_str(), R_OK) == 0 &&
      ::access((kCgroupRoot / "cgroup.subtree_control").c_str(), W_OK) == 0) {
    return LimitMechanism::cgroup_v2;
  }
  if (!usable_v1_hierarchies().empty()) return LimitMechanism::cgroup_v1;
  return LimitMechanism::rlimits;
}

Status write_control(const fs::path& file, const std::string& value) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("cannot open {}: {}", file.string(), errno_text(errno)));
  ssize_t written = ::write(fd, value.data(), value.size());
  int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(value.size())) {
    return make_error(fmt::format("cannot write '{}' to {}: {}", value, file.string(), errno_text(error)));
  }
  return {};
}

// The number after `key` in a "key value" per line file (memory.events, pids.events,
// memory.oom_control); 0 when the file or the key is missing.
int64_t counter(const fs::path& file, std::string_view key) {
  std::ifstream in(file);
  std::string name;
  int64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

// Stops every process still in `group` and removes it; false when it is still busy after a
// second.
bool remove_group(const fs::path& group) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(group.c_str()) == 0 || errno == ENOENT) return true;
    std::ifstream procs(group / "cgroup.procs");
    pid_t pid;
    while (procs >> pid) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

Status enable_v2_controllers(const fs::path& parent) {
  // Only the controllers this host offers; "+cpu" fails on a kernel built without it.
  auto offered = read_file(parent / "cgroup.controllers");
  if (!offered) return offered.error();
  for (const char* controller : {"memory", "pids", "cpu"}) {
    if (offered->find(controller) == std::string::npos) continue;
    if (Status done = write_control(parent / "cgroup.subtree_control", fmt::format("+{}", controller)); !done) {
      return done;
    }
  }
  return {};
}

}  // namespace

void remove_job_cgroup(const std::string& name) {
  for (const char* hierarchy : {"", "memory", "pids", "cpu"}) {
    fs::path group = kCgroupRoot / hierarchy / "slipway" / name;
    std::error_code error;
    if (fs::is_directory(group, error)) remove_group(group);
  }
}

LimitMechanism limit_mechanism() {
  static const LimitMechanism mechanism = detect_mechanism();
  return mechanism;
}

std::string describe_limit_mechanism() {
  switch (limit_mechanism()) {
    case LimitMechanism::cgroup_v2:
      return "cgroup v2";
    case LimitMechanism::cgroup_v1: {
      std::string names;
      for (const std::string& name : usable_v1_hierarchies()) names += (names.empty() ? "" : ", ") + name;
      return fmt::format("cgroup v1 ({})", names);
    }
    case LimitMechanism::rlimits:
      break;
  }
  return "rlimits (no writable cgroup hierarchy: memory is capped per process, not per job)";
}

Result<std::unique_ptr<JobCgroup>> JobCgroup::create(const std::string& name, const JobLimits& limits) {
  std::unique_ptr<JobCgroup> cgroup(new JobCgroup(limits, limit_mechanism()));
  auto make_group = [&](const fs::path& hierarchy) -> Result<fs::path> {
    fs::path parent = hierarchy / "slipway";
    std::error_code error;
    fs::create_directory(parent, error);
    if (error) return make_error(fmt::format("cannot create the cgroup {}: {}", parent.string(), error.message()));
    if (cgroup->mechanism_ == LimitMechanism::cgroup_v2) {
      if (Status enabled = enable_v2_controllers(hierarchy); !enabled) return enabled.error();
      if (Status enabled = enable_v2_controllers(parent); !enabled) return enabled.error();
    }
    fs::path group = parent / name;
    fs::create_directory(group, error);
    if (error) return make_error(fmt::format("cannot create the cgroup {}: {}", group.string(), error.message()));
    cgroup->groups_.push_back(group);
    cgroup->join_paths_.push_back(group / "cgroup.procs");
    return group;
  };
  const std::string cpu_quota = fmt::format("{}", static_cast<int64_t>(limits.cpus * kCpuPeriodMicros));
  if (cgroup->mechanism_ == LimitMechanism::cgroup_v2) {
    auto group = make_group(kCgroupRoot);
    if (!group) return group.error();
    std::vector<std::pair<std::string, std::string>> settings;
    if (limits.memory_bytes > 0) settings.emplace_back("memory.max", std::to_string(limits.memory_bytes));
    if (limits.memory_bytes > 0 && fs::exists(*group / "memory.swap.max")) settings.emplace_back("memory.swap.max", "0");
    if (limits.pids > 0) settings.emplace_back("pids.max", std::to_string(limits.pids));
    if (limits.cpus > 0) settings.emplace_back("cpu.max", fmt::format("{} {}", cpu_quota, kCpuPeriodMicros));
    for (const auto& [file, value] : settings) {
      if (Status written = write_control(*group / file, value); !written) return written.error();
    }
    return cgroup;
  }
  if (cgroup->mechanism_ == LimitMechanism::rlimits) return cgroup;
  for (const std::string& hierarchy : usable_v1_hierarchies()) {
    auto group = make_group(kCgroupRoot / hierarchy);
    if (!group) return group.error();
    Status written;
    if (hierarchy == "memory" && limits.memory_bytes > 0) {
      written = write_control(*group / "memory.limit_in_bytes", std::to_string(limits.memory_bytes));
      // With swap accounting, the same figure for memory+swap: the job cannot swap its way past it.
      if (written && fs::exists(*group / "memory.memsw.limit_in_bytes")) {
        written = write_control(*group / "memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
      }
    } else if (hierarchy == "pids" && limits.pids > 0) {
      written = write_control(*group / "pids.max", std::to_string(limits.pids));
    } else if (hierarchy == "cpu" && limits.cpus > 0) {
      written = write_control(*group / "cpu.cfs_period_us", std::to_string(kCpuPeriodMicros));
      if (written) written = write_control(*group / "cpu.cfs_quota_us", cpu_quota);
    }
    if (!written) return written.error();
  }
  return cgroup;
}

JobCgroup::~JobCgroup() { (void)remove(); }

bool JobCgroup::remove() {
  bool all_gone = true;
  for (const fs::path& group : groups_) all_gone = remove_group(group) && all_gone;
  groups_.clear();
  return all_gone;
}

std::vector<std::string> JobCgroup::rlimit_arguments() const {
  if (mechanism_ != LimitMechanism::rlimits) return {};
  std::vector<std::string> arguments;
  if (limits_.pids > 0) arguments.push_back(fmt::format("--nproc={}", limits_.pids));
  if (limits_.memory_bytes > 0) arguments.push_back(fmt::format("--data={}", limits_.memory_bytes));
  return arguments;
}

std::string JobCgroup::limit_reached() const {
  for (const fs::path& group : groups_) {
    bool v2 = mechanism_ == LimitMechanism::cgroup_v2;
    if (limits_.memory_bytes > 0 &&
        counter(group / (v2 ? "memory.events" : "memory.oom_control"), "oom_kill") > 0) {
      return fmt::format("out of memory (job limit {})", format_byte_size(limits_.memory_bytes));
    }
    if (limits_.pids > 0 && counter(group / "pids.events", "max") > 0) {
      return fmt::format("process limit ({} processes) reached", limits_.pids);
    }
  }
  return "";
}

}  // namespace slipway
