// Reading a `docker save` archive (what DockerEngine::export_image writes): its manifest.json
// names the image config and the layer tars, which are extracted with their exact bytes and
// checked against the config's diff_ids as they go by, so a registry push can trust them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway {

struct ImageArchiveLayer {
  std::string diff_id;            // sha256:… of the uncompressed layer tar (== sha256 of `file`)
  std::filesystem::path file;     // the layer tar, under `into`
  int64_t size = 0;               // bytes
};

struct ImageArchive {
  std::string config_json;        // the image config, byte for byte
  std::string config_digest;      // sha256:… of config_json (the image id)
  std::vector<ImageArchiveLayer> layers;   // bottom first, as the config's rootfs.diff_ids
};

// Unpacks the first image of the archive at `tar` into the folder `into` (created if needed):
// each layer file keeps the path the archive gives it (links between layers, which `docker save`
// writes for repeated layers, are followed inside the archive). Errors: no or malformed
// manifest.json, a config or layer it names missing, a path that would escape `into`, a layer
// count or layer digest that disagrees with the config's rootfs.diff_ids.
Result<ImageArchive> unpack_image_archive(const std::filesystem::path& tar, const std::filesystem::path& into);

}  // namespace slipway
