// JobSandbox: the one sandbox a test job's steps and services share — the boundary between the
// repository's code and everything else on the machine (docs/security.md).
//
// What it promises, when the server runs as root (the full mode):
// - every process runs as the job's own unprivileged uid, with no capabilities and
//   no_new_privs, in its own user, mount, PID, IPC and UTS namespaces;
// - all of a job's processes share one network namespace (job_network.h: the server holds it,
//   or a pod's holder container does for `image:` services): services
//   and suites meet on the job's private 127.0.0.1, and two jobs may both use port 5432. With
//   `network: none` that loopback is all there is; with `outbound`, slirp4netns gives the
//   namespace a NATed way out (never to the host's loopback);
// - the file system is the toolchain read-only (/usr, /bin, /lib*, /opt, /etc without its
//   secrets), the job's workspace writable, a private /tmp and $HOME shared by the job's steps
//   and limited in size — nothing of the data directory, other workspaces, /root, /home,
//   /var/lib or /run, so no Unix socket of the host (docker.sock) is reachable;
// - memory, processes and CPU are limited per job (job_limits.h).
//
// Without root, the uid cannot change and no host mount can be made: steps run as the server's
// user in their own namespaces (each step its own network namespace), with the same file system
// view and rlimits; the executor says so at start.
//
// Closing (the destructor) kills what is left of the job and removes its cgroups, hands the
// network namespace back to the pool (job_network.h) once no process of the job can remain, and
// unmounts what the job mounted; clean_stale_job_sandboxes() does the same for a process that
// died.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/child_process.h"
#include "ci/job_limits.h"
#include "ci/job_network.h"

namespace slipway {

struct JobSandboxRequest {
  std::filesystem::path workspace;  // absolute; becomes the job uid's
  bool network_none = false;        // loopback only, no way out
  bool shared_network = true;       // steps share one namespace (false: each step its own)
  // The host's network namespace (for deploy.verify, which must reach the test listener on the
  // host's loopback); every other wall stands.
  bool host_network = false;
  JobLimits limits;
  uid_t uid = 0;                    // the job's uid (full mode only)
  bool docker = false;              // show the Docker Engine's socket (root-equivalent)
  // A process whose network namespace the job joins (a service container pod's holder, which
  // then owns it) instead of starting a holder of its own; 0: none. Full mode only.
  pid_t network_pid = 0;
  // Paths that must not be seen even where they lie inside a tree the sandbox shows (a data
  // directory under /opt, a server configuration under /etc).
  std::vector<std::filesystem::path> hidden_paths;
};

// A step's way into the sandbox: its argv (the command, behind prlimit where rlimits stand in
// for cgroups), and what the spawned process enters: the job's cgroups, network namespace and
// uid (without root: none of these), then a fresh sandbox of the job's file system view
// (SandboxSpec, base/child_process.h).
struct SandboxLaunch {
  std::vector<std::string> argv;
  ProcessEntry enter;
};

class JobSandbox {
 public:
  static Result<std::unique_ptr<JobSandbox>> open(const JobSandboxRequest& request);
  ~JobSandbox();
  JobSandbox(const JobSandbox&) = delete;
  JobSandbox& operator=(const JobSandbox&) = delete;

  // How to run `command` (an absolute program and its arguments) inside the sandbox, with
  // `workspace` as its working directory: spawn launch.argv with launch.enter. The spawned
  // process is the step's PID namespace's init; the command is its only child.
  SandboxLaunch launch(const std::vector<std::string>& command) const;

  // The job's shared network namespace, a path to open (ProcessEntry::network_namespace), valid
  // while the sandbox lives; empty when there is none.
  std::filesystem::path network_namespace() const;

  // $HOME inside the sandbox.
  static std::filesystem::path home() { return "/home/slipway"; }

  // The limit the job has hit, as a phrase for a step's reason; "" when none.
  std::string limit_reached() const;

  // Whether this process can run the full mode (it is root).
  static bool full_mode();
  // Makes the shared network namespace that open(request) would take from the pool, unless the
  // pool has one (JobNetworkPool::prepare); nothing when such a job needs none.
  static void prepare_network(const JobSandboxRequest& request);

 private:
  explicit JobSandbox(JobSandboxRequest request);

  Status prepare_root();
  Status prepare_files();
  Status start_network();
  // Whether a job of `request` takes its network namespace from the pool.
  static bool takes_pooled_network(const JobSandboxRequest& request, bool full);
  std::vector<SandboxMount> mounts() const;  // what a step sees, in order
  std::shared_ptr<const SandboxSpec> make_spec() const;

  std::filesystem::path prlimit_;              // looked up once per job, not per step
  JobSandboxRequest request_;
  bool full_ = false;
  gid_t gid_ = 0;                              // the job's group: its uid's, or the Docker socket's
  std::filesystem::path docker_socket_;        // shown when the server granted it
  std::filesystem::path root_;                 // the job's own folder: tmp/, home/, etc/, workspace
  std::vector<std::filesystem::path> mounts_;  // host mounts made, innermost last
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> object_binds_;  // git alternates
  std::unique_ptr<JobCgroup> cgroup_;
  std::unique_ptr<JobNetwork> network_;        // the shared namespace; none: each step its own
  std::shared_ptr<const SandboxSpec> spec_;    // every step's sandbox, made once at open
};

// One line for a server's start: how steps are isolated and limited, e.g. "steps: sandbox as
// unprivileged uids (from 2000000), a network namespace per job; limits by cgroup v1 (memory,
// pids, cpu): memory 4 GiB, 2048 processes, /tmp 1 GiB, 2 CPUs".
std::string describe_job_isolation(std::string_view executor, const JobLimits& limits);

// Unmounts and removes the job folders of sandbox-running processes that no longer exist.
void clean_stale_job_sandboxes();

}  // namespace slipway
