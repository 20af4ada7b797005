#include "publish/image_pusher.h"

#include <set>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "publish/image_blob_upload.h"
#include "spec/image_reference.h"

namespace slipway {

namespace {

Result<BlobSizes> sizes_in_registry(RegistryClient& registry, const std::string& repository,
                                    const std::vector<std::string>& digests) {
  BlobSizes sizes;
  for (const auto& digest : digests) {
    if (sizes.count(digest)) continue;
    auto size = registry.blob_size(repository, digest);
    if (!size) return size.error();
    sizes[digest] = *size;
  }
  return sizes;
}

Status check_push_arguments(const std::string& repository, const std::vector<std::string>& tags) {
  if (Status valid = check_repository_path(repository); !valid) return valid;
  if (tags.empty()) return make_error(fmt::format("no tag given for the push to {}", repository));
  for (const auto& tag : tags) {
    if (Status valid = check_tag(tag); !valid) return valid;
  }
  return {};
}

// Makes every tag name `manifest`, and proves it by reading the tag back. A tag that already
// names it is left alone: that makes a re-push one HEAD per tag after the blob checks.
Result<std::string> tag_manifest(RegistryClient& registry, const std::string& repository,
                                 const std::vector<std::string>& tags, const std::string& manifest) {
  std::string digest = "sha256:" + sha256_hex(manifest);
  for (const auto& tag : tags) {
    auto current = registry.resolve_digest(repository, tag);
    if (!current) return current.error();
    if (*current == digest) continue;
    auto stored = registry.put_manifest(repository, tag, media_type::oci_manifest, manifest);
    if (!stored) return stored.error();
    auto resolved = registry.resolve_digest(repository, tag);
    if (!resolved) return resolved.error();
    if (*resolved != digest) {
      return make_error(fmt::format("after the push, {}/{}:{} points at {} rather than the pushed {}: something else "
                                    "pushed to that tag at the same time",
                                    registry.registry(), repository, tag, resolved->value_or("nothing"), digest));
    }
  }
  return digest;
}

}  // namespace

std::string oci_image_manifest(const BlobDescriptor& config, const std::vector<BlobDescriptor>& layers) {
  nlohmann::ordered_json manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = media_type::oci_manifest;
  manifest["config"] = {{"mediaType", media_type::oci_config}, {"digest", config.digest}, {"size", config.size}};
  manifest["layers"] = nlohmann::ordered_json::array();
  for (const auto& layer : layers) {
    manifest["layers"].push_back({{"mediaType", media_type::oci_layer_tar}, {"digest", layer.digest}, {"size", layer.size}});
  }
  return manifest.dump();
}

Result<PushResult> push_image(DockerEngine& engine, RegistryClient& registry, const std::string& image_id,
                              const std::string& repository, const std::vector<std::string>& tags,
                              const std::filesystem::path& scratch_dir,
                              const std::function<void(std::string_view line)>& on_line) {
  std::function<void(const std::string&)> log = [&](const std::string& line) {
    if (on_line) on_line(line);
  };
  if (Status valid = check_push_arguments(repository, tags); !valid) return valid.error();
  auto details = engine.inspect_image(image_id);
  if (!details) return details.error();
  if (!*details) return make_error(fmt::format("cannot push '{}': the Docker Engine has no such image", image_id));
  const ImageDetails& image = **details;

  registry.expect_push(repository);
  std::vector<std::string> digests = {image.id};
  digests.insert(digests.end(), image.diff_ids.begin(), image.diff_ids.end());
  auto sizes = sizes_in_registry(registry, repository, digests);
  if (!sizes) return sizes.error();

  PushResult result;
  result.tags = tags;
  std::set<std::string> missing_before;
  for (const auto& [digest, size] : *sizes) {
    if (!size) missing_before.insert(digest);
  }
  // Only when something is missing is the image exported at all.
  if (!missing_before.empty()) {
    Status uploaded = upload_missing_blobs(engine, registry, image.id, repository, scratch_dir, *sizes, result, log);
    if (!uploaded) return uploaded.error();
    for (const auto& [digest, size] : *sizes) {
      if (!size) return make_error(fmt::format("the export of image {} does not hold its blob {}", image.id, digest));
    }
  }
  for (const auto& diff_id : image.diff_ids) {
    if (!missing_before.count(diff_id)) log(fmt::format("layer {} already in the registry", digest_for_log(diff_id)));
  }
  result.reused_blobs = static_cast<int>(sizes->size() - missing_before.size());

  std::vector<BlobDescriptor> layers;
  for (const auto& diff_id : image.diff_ids) layers.push_back({diff_id, *sizes->at(diff_id)});
  std::string manifest = oci_image_manifest({image.id, *sizes->at(image.id)}, layers);
  auto digest = tag_manifest(registry, repository, tags, manifest);
  if (!digest) return digest.error();
  result.digest = *digest;
  return result;
}

}  // namespace slipway
