#include "cd/image_retention.h"

#include "store/image_references.h"

namespace slipway {

Result<ImageSweep> remove_unused_images(Store& store, ContainerRuntime& containers) {
  auto references = image_references(store);
  if (!references) return references.error();
  auto present = containers.image_names();  // one listing, rather than a removal per name ever used
  if (!present) return present.error();
  ImageSweep sweep;
  for (const std::string& image : references->named) {
    // Slipway pulls by digest: a name without one is not a pull of its (a local build, a tag).
    if (image.find("@sha256:") == std::string::npos || !present->count(image)) continue;
    if (references->needed.count(image)) {
      ++sweep.kept;
      continue;
    }
    auto removal = containers.remove_image(image);
    if (!removal) {
      sweep.problems.push_back(removal.error().message);
    } else if (*removal == ContainerRuntime::ImageRemoval::removed) {
      sweep.removed.push_back(image);
    } else if (*removal == ContainerRuntime::ImageRemoval::in_use) {
      ++sweep.in_use;
    }
  }
  return sweep;
}

}  // namespace slipway
