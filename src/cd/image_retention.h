// remove_unused_images: keeps the Docker Engine's disk flat. Every image a deployment or a data
// task pulled stays on the Engine until something removes it; this removes each image Slipway
// named (store/image_references.h) that nothing needs any more — not the live version, a
// retained one (`retain`), a deployment in flight, a task revision kept (`task_revisions_kept`)
// or a task run queued or running. The Engine itself refuses to remove an image a container
// still uses (that is counted as in use, not as an error), so a race with a deployment that just
// started can never take its image away. Images Slipway never named are never touched.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "cd/container_runtime.h"
#include "store/store.h"

namespace slipway {

struct ImageSweep {
  std::vector<std::string> removed;   // references removed from the Engine
  int kept = 0;                       // needed, so left alone
  int in_use = 0;                     // not needed by a record, but a container uses it
  std::vector<std::string> problems;  // removals the Engine refused otherwise; the sweep went on
};

// Error only when the store cannot be read or the Engine cannot list its images.
Result<ImageSweep> remove_unused_images(Store& store, ContainerRuntime& containers);

}  // namespace slipway
