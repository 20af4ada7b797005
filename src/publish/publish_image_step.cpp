// The `image` publish step: build once per run, push to each environment's registry.
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/time.h"
#include "publish/artifact_publisher.h"
#include "publish/docker_engine.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"
#include "spec/image_reference.h"

namespace slipway {

namespace fs = std::filesystem;

// One run's image: the first environment builds it, the others wait on the same mutex and reuse
// the outcome (a failed build fails every environment with the same message, built once).
struct RunImage {
  std::mutex mutex;
  bool built = false;
  Result<std::string> outcome = make_error("not built");
};

// The run's image is in the registries now; the local copy goes, because a server that builds
// every commit would otherwise fill its disk with them. The cost: the next build of the same
// Dockerfile does not reuse this one's layers from the local cache.
void ArtifactPublisher::run_finished(int64_t run_id) {
  std::shared_ptr<RunImage> image;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = images_.find(run_id);
    if (found == images_.end()) return;
    image = found->second;
    images_.erase(found);
  }
  std::lock_guard<std::mutex> lock(image->mutex);
  if (image->built && image->outcome) {
    DockerEngine engine(docker_socket_);
    if (auto removed = engine.remove_image(*image->outcome, true); !removed) {
      spdlog::warn("run #{}: could not remove its local image {}: {}", run_id, *image->outcome, removed.error().message);
    }
  }
}

Result<std::string> ArtifactPublisher::built_image(const PublishStepContext& context) {
  std::shared_ptr<RunImage> image;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = images_[context.run->id];
    if (!slot) slot = std::make_shared<RunImage>();
    image = slot;
  }
  std::lock_guard<std::mutex> lock(image->mutex);
  if (image->built) {
    if (image->outcome) context.log(fmt::format("reusing the image built for this run: {}", *image->outcome));
    return image->outcome;
  }
  const ImageSpec& spec = *context.spec->publish->image;
  ImageBuildRequest request;
  request.context = context.workspace / spec.context;
  request.dockerfile = spec.dockerfile;
  request.target = spec.target;
  request.tags = {fmt::format("{}:{}", spec.repository, context.run->commit.substr(0, 12))};
  request.scratch_directory = context.workspace.parent_path();  // the run's folder
  context.log(fmt::format("building {} from {} (context {}{})", request.tags.front(), spec.dockerfile, spec.context,
                          spec.target.empty() ? "" : ", target " + spec.target));
  int64_t started = now_ms();
  DockerEngine engine(docker_socket_);
  image->outcome = engine.build_image(request, context.output, context.cancel);
  image->built = true;
  if (image->outcome) {
    context.log(fmt::format("built {} in {}", *image->outcome, format_duration(Milliseconds(now_ms() - started))));
  }
  return image->outcome;
}

Result<std::vector<PublishedArtifact>> ArtifactPublisher::publish_image(const EnvironmentConfig& environment,
                                                                        const PublishStepContext& context) {
  if (!environment.registry) {
    return make_error(fmt::format("environment '{}' has no registry in the server's configuration: add "
                                  "`registry: {{ url: HOST:PORT/PREFIX, ... }}` under it",
                                  environment.name));
  }
  auto location = parse_registry_url(environment.registry->url);
  if (!location) return make_error("the registry url: " + location.error().message);
  auto login = environment_secrets(context).registry_login(*environment.registry);
  if (!login) return login.error();
  RegistryCredentials credentials{login->username, login->password};
  // Credentials first: a wrong password should fail in a second, not after a long build.
  RegistryClient registry(RegistryEndpoint{location->registry, credentials, ""});
  if (auto access = registry.check_access(); !access) return access.error();

  auto image_id = built_image(context);
  if (!image_id) return image_id.error();
  const ImageSpec& spec = *context.spec->publish->image;
  std::string repository = location->repository(spec.repository);
  std::string short_sha = context.run->commit.substr(0, 12);
  DockerEngine engine(docker_socket_);
  auto pushed = push_image(engine, registry, *image_id, repository, {short_sha, "latest"}, context.scratch, context.log);
  if (!pushed) return pushed.error();
  std::string name = fmt::format("{}/{}:{}", location->registry, repository, short_sha);
  std::string detail = fmt::format("tags {} and latest; {} blobs uploaded ({:.1f} MB), {} already there", short_sha,
                                   pushed->uploaded_blobs, static_cast<double>(pushed->bytes_uploaded) / 1e6,
                                   pushed->reused_blobs);
  return std::vector<PublishedArtifact>{{"image", name, pushed->digest, detail}};
}

}  // namespace slipway
