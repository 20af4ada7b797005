// remove_orphan_containers: a container carrying a slipway.deployment label that no deployment
// accounts for (a crash between creating it and writing its state, or a record removed by hand)
// is removed, so that a killed server leaves none behind after its restart.
#pragma once

#include <string>

#include "base/result.h"
#include "cd/container_runtime.h"
#include "store/store.h"

namespace slipway {

// A deployment accounts for its container while it is active, or while the container is
// running or retained ("stopped"). Each removal failure is logged; only listing errors return.
// Only containers labelled slipway.owner=`owner` are looked at.
Status remove_orphan_containers(Store& store, ContainerRuntime& containers, const std::string& owner);

}  // namespace slipway
