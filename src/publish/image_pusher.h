// push_image: puts an image of the local Docker Engine into a registry under some tags, the
// fast way. Layers go up UNCOMPRESSED (an OCI manifest with ...layer.v1.tar layers): compressing
// is where `docker push` spends its time on one core, and on a loopback or LAN registry bytes are
// cheaper than CPU; they stream to the registry while `docker save` is still writing them. When
// the repository has every blob already, nothing is exported: a re-push is a few HEADs, and the
// same image under a new tag adds one manifest PUT. Every tag is read back afterwards (its digest
// must be the manifest's), so a returned PushResult means "pushed".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "publish/docker_engine.h"
#include "publish/registry_client.h"

namespace slipway {

struct PushResult {
  std::string digest;                  // the manifest's "sha256:..."
  std::vector<std::string> tags;
  int uploaded_blobs = 0;              // config and layers sent now
  int reused_blobs = 0;                // found in the repository already
  int64_t bytes_uploaded = 0;
};

// Pushes `image_id` (an id or name the engine knows) to `repository` of the client's registry
// under every tag of `tags` (at least one). Scratch files (the exported image) go under
// `scratch_dir` and are removed before returning, whatever happened. Progress lines ("layer
// sha256:ab12… 200.0 MB uploaded in 1.2 s", "layer … already in the registry") go to on_line.
// Errors name the step that failed: the engine's, the registry's ("refused the credentials
// for user 'alice'"), or a tag that does not resolve to the pushed digest afterwards.
Result<PushResult> push_image(DockerEngine& engine, RegistryClient& registry, const std::string& image_id,
                              const std::string& repository, const std::vector<std::string>& tags,
                              const std::filesystem::path& scratch_dir,
                              const std::function<void(std::string_view line)>& on_line);

// The OCI image manifest for a config and layers (digest, size), layers uncompressed, as exact
// bytes: its sha256 is the image's digest in the registry.
struct BlobDescriptor {
  std::string digest;
  int64_t size = 0;
};
std::string oci_image_manifest(const BlobDescriptor& config, const std::vector<BlobDescriptor>& layers);

}  // namespace slipway
