// The slow half of push_image: exports the image once and puts the blobs the repository lacks
// there. Layers stream from the `docker save` output to the registry while dockerd is still
// writing it (GrowingArchive), uncompressed; a layer that cannot be told apart on the way is
// sent afterwards from the unpacked archive (image_archive.h). Scratch files go on return.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "publish/docker_engine.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"

namespace slipway {

// Each blob of the image (config and layers) -> its size in the repository; nullopt: missing.
using BlobSizes = std::map<std::string, std::optional<int64_t>>;

// Uploads every blob `sizes` marks missing, fills in its size, and counts it in `result`.
// `image_id` is the config digest. Errors name what failed: the export, the archive, the
// registry, or a layer the export holds that the engine did not list.
Status upload_missing_blobs(DockerEngine& engine, RegistryClient& registry, const std::string& image_id,
                            const std::string& repository, const std::filesystem::path& scratch_dir, BlobSizes& sizes,
                            PushResult& result, const std::function<void(const std::string& line)>& log);

// "sha256:ab12cd34ef56…": enough of a digest to tell layers apart in a log line.
std::string digest_for_log(const std::string& digest);

}  // namespace slipway
