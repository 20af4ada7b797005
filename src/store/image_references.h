// The container images Slipway's deployments and data tasks name, for the image sweep
// (cd/image_retention.h): every one ever named, and those still needed — by a deployment in
// flight, a live or retained version, a task revision that is active or kept (inactive, within
// task_revisions_kept), or a task run queued or running. Images are references as the Engine
// takes them: "127.0.0.1:5000/prod/hello-app@sha256:…".
#pragma once

#include <set>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct ImageReferences {
  std::set<std::string> named;
  std::set<std::string> needed;  // a subset of named
};

Result<ImageReferences> image_references(Store& store);

}  // namespace slipway
