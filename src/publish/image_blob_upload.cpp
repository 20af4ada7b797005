#include "publish/image_blob_upload.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/files.h"
#include "base/strings.h"
#include "publish/growing_archive.h"
#include "publish/image_archive.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kLargestConfig = 16 << 20;
// For layers sent from files: big enough that a request's overhead vanishes, small enough to
// bound what a failed request re-sends.
constexpr int64_t kLayerChunkBytes = int64_t{64} << 20;

std::string megabytes(int64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The export folder under scratch_dir, removed with everything in it on every path out.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::filesystem::path& scratch_dir)
      : path_(scratch_dir / ("image-push-" + to_hex(random_bytes(6)))) {}
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void record_upload(BlobSizes& sizes, PushResult& result, const std::string& digest, int64_t size) {
  sizes[digest] = size;
  ++result.uploaded_blobs;
  result.bytes_uploaded += size;
}

bool missing(const BlobSizes& sizes, const std::string& digest) {
  auto found = sizes.find(digest);
  return found != sizes.end() && !found->second;
}

// `docker save` (Engine 20.10) writes "<config hex>.json" and "<v1 id>/layer.tar" members. A
// layer's digest is known only once it has been read, so a layer is streamed into the registry
// when its size matches no blob the repository already has: then it must be a missing one.
// One that does match is left for the unpacked pass (rare: two layers of the same size).
Status stream_export(RegistryClient& registry, const std::string& repository, GrowingArchive& archive,
                     const std::string& image_id, BlobSizes& sizes, PushResult& result, std::string& config_json,
                     const std::function<void(const std::string&)>& log) {
  std::set<int64_t> present_sizes;
  for (const auto& [digest, size] : sizes) {
    if (size) present_sizes.insert(*size);
  }
  while (true) {
    auto member = archive.next();
    if (!member) return member.error();
    if (!*member) return {};
    const ArchiveMember& found = **member;
    if (!found.regular) continue;
    if (found.path.find('/') == std::string::npos && ends_with(found.path, ".json") && found.path != "manifest.json") {
      auto text = archive.read_all(kLargestConfig);
      if (!text) return text.error();
      if ("sha256:" + sha256_hex(*text) == image_id) config_json = std::move(*text);
    } else if (ends_with(found.path, "/layer.tar") && !present_sizes.count(found.size)) {
      auto started = SteadyClock::now();
      auto streamed = registry.upload_blob_stream(repository, [&](char* buffer, size_t size) { return archive.read(buffer, size); });
      if (!streamed) return streamed.error();
      if (!sizes.count(streamed->digest)) {
        return make_error(fmt::format("the export of image {} holds layer {}, which the engine did not list", image_id,
                                      streamed->digest));
      }
      if (!missing(sizes, streamed->digest)) continue;  // a repeated layer, sent twice
      record_upload(sizes, result, streamed->digest, streamed->size);
      log(fmt::format("layer {} {} uploaded in {:.1f} s", digest_for_log(streamed->digest), megabytes(streamed->size),
                      seconds_since(started)));
    }
  }
}

// What streaming left: unpack the finished archive and send the missing blobs from its files.
Status upload_leftovers(RegistryClient& registry, const std::string& repository, const std::filesystem::path& tar,
                        const std::filesystem::path& into, const std::string& image_id, BlobSizes& sizes,
                        PushResult& result, const std::function<void(const std::string&)>& log) {
  auto archive = unpack_image_archive(tar, into);
  if (!archive) return archive.error();
  if (archive->config_digest != image_id) {
    return make_error(fmt::format("the Docker Engine exported image {} when asked for {}: was the tag moved meanwhile?",
                                  archive->config_digest, image_id));
  }
  if (missing(sizes, image_id)) {
    if (Status sent = registry.upload_blob(repository, image_id, archive->config_json); !sent) return sent;
    record_upload(sizes, result, image_id, static_cast<int64_t>(archive->config_json.size()));
  }
  for (const auto& layer : archive->layers) {
    if (!missing(sizes, layer.diff_id)) continue;
    auto started = SteadyClock::now();
    Status sent = registry.upload_blob(repository, layer.diff_id, layer.file, 0, layer.size, UploadOptions{kLayerChunkBytes, nullptr});
    if (!sent) return sent;
    record_upload(sizes, result, layer.diff_id, layer.size);
    log(fmt::format("layer {} {} uploaded in {:.1f} s", digest_for_log(layer.diff_id), megabytes(layer.size),
                    seconds_since(started)));
  }
  return {};
}

}  // namespace

std::string digest_for_log(const std::string& digest) {
  size_t colon = digest.find(':');
  return digest.substr(0, colon == std::string::npos ? 0 : colon + 1 + 12) + "…";
}

Status upload_missing_blobs(DockerEngine& engine, RegistryClient& registry, const std::string& image_id,
                            const std::string& repository, const std::filesystem::path& scratch_dir, BlobSizes& sizes,
                            PushResult& result, const std::function<void(const std::string& line)>& log) {
  ScratchFolder scratch(scratch_dir);
  if (Status made = make_directories(scratch.path()); !made) return made;
  std::filesystem::path tar = scratch.path() / "image.tar";
  if (Status created = write_file_atomically(tar, ""); !created) return created;  // the reader may open it first

  std::atomic<bool> export_done{false};
  Status exported;
  double export_seconds = 0;
  std::string config_json;
  Status streamed;
  {
    std::jthread exporter([&] {
      auto started = SteadyClock::now();
      exported = engine.export_image(image_id, tar);
      export_seconds = seconds_since(started);
      export_done = true;
    });
    GrowingArchive archive(tar, export_done);  // its first read waits for the exporter's bytes
    streamed = stream_export(registry, repository, archive, image_id, sizes, result, config_json, log);
  }  // joins the exporter: the archive is whole (or the export failed) from here on
  if (!exported) return exported;
  log(fmt::format("image exported in {:.1f} s", export_seconds));
  if (!streamed) return streamed;

  if (missing(sizes, image_id) && !config_json.empty()) {
    if (Status sent = registry.upload_blob(repository, image_id, config_json); !sent) return sent;
    record_upload(sizes, result, image_id, static_cast<int64_t>(config_json.size()));
  }
  for (const auto& [digest, size] : sizes) {
    if (!size) return upload_leftovers(registry, repository, tar, scratch.path() / "unpacked", image_id, sizes, result, log);
  }
  return {};
}

}  // namespace slipway
