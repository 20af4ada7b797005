// ContainerPods: the service containers of test jobs (`test.services.NAME.image`), the safe way
// to get a database in tests now that no step reaches the Docker Engine. ci/ knows only this
// interface; cd/ implements it on the Engine (cd/docker_pods.h), and `slipway run` and the
// server hand the implementation to the RunExecutor, as they do with the Publisher.
//
// The pod pattern: the Engine can put a container only into another container's network
// namespace, never into an arbitrary one. So a job with image services gets a pod: open()
// starts a holder container that does nothing but own a network namespace (no network, no
// capabilities, read-only); the job's sandbox enters that namespace instead of making its own
// (JobRequest::network_pid), and every service container joins it. Steps, ready commands and
// services then meet on the job's own 127.0.0.1, which neither the host nor another job sees.
//
// What a service container gets: the image's own command, user and default capabilities, the
// `env:` it declares (not the job's env, not its secrets), no host mounts, no privileges,
// no_new_privileges, and the job's memory, process and CPU limits.
//
// Lifetime: destroying a pod removes all its containers (holder last). A process killed before
// that leaves them behind; remove_leftovers(), called when the next `slipway run` or server
// starts, removes the pods whose owning process is gone.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "ci/executor.h"
#include "spec/job_limits.h"

namespace slipway {

struct ServiceContainerRequest {
  std::string name;                         // the service's name in .slipway.yml ("db")
  std::string image;                        // NAME[:TAG|@DIGEST], as written
  std::map<std::string, std::string> env;   // the service's `env:`
  JobLimits limits;                         // the job's; each container gets them
};

class ContainerPod {
 public:
  // Removes every container of the pod, whatever state it is in.
  virtual ~ContainerPod() = default;

  // A process inside the pod's network namespace, as this machine's /proc numbers it.
  virtual pid_t network_pid() const = 0;

  // Starts a container of `request.image` in the pod (a missing image is pulled only from a
  // registry on this machine). Its output goes to `sink`, line by line, from a thread of its
  // own until it stops; `sink` must outlive the returned process. running() is the container's
  // state; stop() and the destructor stop it (SIGTERM, grace, SIGKILL) and remove it.
  virtual Result<std::unique_ptr<BackgroundProcess>> start_service(const ServiceContainerRequest& request,
                                                                   OutputSink& sink) = 0;
};

class ContainerPods {
 public:
  virtual ~ContainerPods() = default;

  // Starts a job's holder. Errors say what is missing (no Docker Engine answers, ...).
  virtual Result<std::unique_ptr<ContainerPod>> open() = 0;

  // Removes the containers of pods whose owning process no longer runs (a killed `slipway run`
  // or server). Pods of live processes — another `slipway run` on the same data directory — stay.
  virtual Status remove_leftovers() = 0;
};

}  // namespace slipway
