// JobCgroup: the resources one job may use — memory, processes, CPUs — enforced by
// a control group of its own, which every process of the job joins before it runs anything of
// the repository's.
//
// The mechanism is the host's: cgroup v2 where /sys/fs/cgroup is the unified hierarchy, v1 where
// the `memory`, `pids` and `cpu` hierarchies are mounted (each used when it is there and
// writable), otherwise rlimits (RLIMIT_NPROC per job uid, RLIMIT_DATA per process), which are
// weaker: a memory rlimit caps each process, not the job. describe_limit_mechanism() says which
// is in force, for the server's start-up line.
//
// A job learns it hit a limit from the group's own counters (memory OOM kills, refused forks),
// so a step killed for memory fails with "out of memory (job limit 4 GiB)", not "killed by
// signal 9".
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "spec/job_limits.h"

namespace slipway {

enum class LimitMechanism { cgroup_v2, cgroup_v1, rlimits };

// Detected once per process (the hierarchies do not change while it runs).
LimitMechanism limit_mechanism();
std::string describe_limit_mechanism();  // "cgroup v1 (memory, pids, cpu)", ...

// Removes the groups a process that died left behind (named as create() was), killing what is
// still in them.
void remove_job_cgroup(const std::string& name);

class JobCgroup {
 public:
  // Creates slipway/<name> in each hierarchy in use and writes the limits. Fails when a group
  // cannot be made or a limit cannot be written, naming the file. With the rlimits mechanism,
  // there is no group: join_paths() is empty and rlimit_arguments() carries the limits.
  static Result<std::unique_ptr<JobCgroup>> create(const std::string& name, const JobLimits& limits);
  ~JobCgroup();  // remove(), if not done

  // Kills whatever is still in the groups and removes them. True when every group is gone, so
  // no process of the job is left (with rlimits, none was ever grouped: true). A group still
  // busy after a second is left for the next start's clean-up rather than blocking the job's end.
  bool remove();

  // The cgroup.procs files a process writes "0" to, to join the job's group.
  const std::vector<std::filesystem::path>& join_paths() const { return join_paths_; }
  // prlimit(1) options for the rlimits mechanism; empty with cgroups.
  std::vector<std::string> rlimit_arguments() const;

  // Which limit the group has hit since it was made, as a phrase for a step's reason ("out of
  // memory (job limit 4 GiB)", "process limit (2048) reached"); "" when none.
  std::string limit_reached() const;

 private:
  JobCgroup(JobLimits limits, LimitMechanism mechanism) : limits_(limits), mechanism_(mechanism) {}

  JobLimits limits_;
  LimitMechanism mechanism_;
  std::vector<std::filesystem::path> groups_;  // the group folders made, to remove
  std::vector<std::filesystem::path> join_paths_;
};

}  // namespace slipway
