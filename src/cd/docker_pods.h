// DockerPods: the test jobs' service containers (ci/service_containers.h) on the Docker Engine,
// through ContainerRuntime.
//
// A pod's holder runs the pause image (pause_image.h) with no network of its own ("none": the
// job's sandbox may give the namespace a way out with slirp4netns), every capability dropped,
// no_new_privileges, a read-only root file system, as nobody. Each service runs its image with
// NetworkMode "container:<holder>", no mounts, no_new_privileges, the image's own user and
// default capabilities, and the job's memory, process and CPU limits.
//
// Every container is labelled slipway.owner=<owner> (the data directory, as deployments and
// task runs are), slipway.pod=<pod name> and slipway.pod-process=<pid>.<start time> of the
// process that opened the pod; services also slipway.service=<name>. remove_leftovers() looks
// at this owner's pods only and removes those whose process is gone (or whose pid now belongs to
// another process: the start time differs).
#pragma once

#include <memory>
#include <string>

#include "cd/container_runtime.h"
#include "ci/service_containers.h"

namespace slipway {

class DockerPods : public ContainerPods {
 public:
  // `runtime` must outlive this object and every pod it opens.
  DockerPods(ContainerRuntime& runtime, std::string owner);

  Result<std::unique_ptr<ContainerPod>> open() override;
  Status remove_leftovers() override;

 private:
  ContainerRuntime& runtime_;
  std::string owner_;
};

}  // namespace slipway
