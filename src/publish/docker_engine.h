// DockerEngine: the Docker Engine API (v1.41, Engine 20.10) over its unix socket, for the images
// publish builds and moves: build from a context folder with the classic builder (no BuildKit
// session), inspect, tag, save, import, remove. Every call opens its own connection, so one
// object may be shared between threads. A daemon that does not answer is an Error that says how
// to start one; an HTTP error from the daemon is an Error quoting its message.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/docker_api.h"
#include "base/http_client.h"
#include "base/result.h"

namespace slipway {

struct ImageBuildRequest {
  std::filesystem::path context;                  // the folder sent as the build context
  std::string dockerfile = "Dockerfile";          // relative to `context`
  std::string target;                             // a stage name; "" builds the last stage
  std::vector<std::string> tags;                  // "repository:tag" names given to the image
  std::map<std::string, std::string> build_args;  // ARG values
  // Where the context's tar is made (in a fresh folder, removed after the build); empty: the
  // system's temporary folder. A run's folder, so that a crash leaves nothing elsewhere.
  std::filesystem::path scratch_directory;
};

struct ImageDetails {
  std::string id;                       // sha256:… (the config digest)
  std::vector<std::string> diff_ids;    // sha256:… of each uncompressed layer, bottom first
  std::vector<std::string> repo_tags;   // "hello-app:latest", …
  int64_t size = 0;                     // bytes, as the daemon counts them
};

class DockerEngine {
 public:
  explicit DockerEngine(std::string socket_path = "/var/run/docker.sock");

  // The Engine's version as it reports it ("20.10.24+dfsg1"). Error when nothing answers on the
  // socket ("no Docker Engine answers at ...: start it with `dockerd ...`").
  Result<std::string> version();

  // Builds the image: the context folder goes as a tar stream (honouring its .dockerignore), and
  // each line of build output (the "stream" texts, status lines, errors) reaches on_line as it
  // arrives. Returns the image id ("sha256:…"). A failed build is an Error holding the daemon's
  // message and the step it stopped at ("the image build failed at Step 2/3 : COPY … : COPY
  // failed: …"); a missing target stage, bad Dockerfile or bad tag too. When `cancel` turns true
  // the connection is dropped, which makes the daemon stop the build; the check runs whenever
  // output arrives, so a step that prints nothing is interrupted only when it next prints.
  Result<std::string> build_image(const ImageBuildRequest& request,
                                  const std::function<void(std::string_view line)>& on_line,
                                  const std::atomic<bool>* cancel = nullptr);

  // nullopt when no image has this name or id.
  Result<std::optional<ImageDetails>> inspect_image(const std::string& name_or_id);

  // Gives `image` the name repository:tag (moving that name off any other image).
  Status tag_image(const std::string& image, const std::string& repository, const std::string& tag);

  // `docker save` of one image into tar_file (GET /images/{name}/get): manifest.json, the config
  // and one uncompressed tar per layer. The file is streamed, never held in memory.
  Status export_image(const std::string& image, const std::filesystem::path& tar_file);

  // Makes a one-layer image from a root filesystem tar (POST /images/create?fromSrc=-), named
  // repository:tag. Returns its id ("sha256:…").
  Result<std::string> import_image(const std::filesystem::path& rootfs_tar, const std::string& repository,
                                   const std::string& tag);

  // Removes the image (or, for a name, that name; the image goes with its last name). An image
  // already gone is success, so cleanup can repeat. `force` removes it even when containers use it.
  Status remove_image(const std::string& image, bool force = false);

  const std::string& socket_path() const { return api_.socket_path(); }

 private:
  HttpClientRequest request(std::string method, std::string_view path_and_query) const {
    return api_.request(std::move(method), path_and_query);
  }
  Result<HttpClientResponse> send(const HttpClientRequest& request) const { return api_.send(request); }
  Error daemon_error(const HttpClientRequest& request, const HttpClientResponse& response, std::string_view what) const {
    return api_.daemon_error(request, response, what);
  }

  DockerApi api_;
};

}  // namespace slipway
