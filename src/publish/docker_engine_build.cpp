// DockerEngine::build_image: the context goes to a temporary tar file first (contexts are
// repositories, small beside the images built from them; a file makes the upload sized and
// retry-free), then POST /build streams the output back message by message.
#include <exception>
#include <memory>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"
#include "publish/build_context.h"
#include "publish/docker_engine.h"
#include "publish/docker_messages.h"

namespace slipway {

namespace {

// The classic builder (version=1): BuildKit would need a session the API client must serve.
// rm and forcerm remove the intermediate containers even when a step fails. RUN steps keep the
// default network mode: with the daemon's bridge off (DESIGN §7) they reach nothing, not even
// the services on the host's loopback, which a repository's build has no business calling.
// nocache=1: no cached intermediate image is looked up or reused. The classic builder's cache
// lookup fails a build ("unable to find image", "unknown parent image ID") when an image is
// removed meanwhile — by another run's clean-up (a forced removal prunes the removed image's
// untagged parents), by the deployments' image clean-up or by an operator's `docker image prune`.
// What the cache would save is small here: a run's image is removed after its publish, parents
// with it. Base images (FROM) are used as before. And every build is a new image, so a commit
// whose files do not change the image still gets a digest (and a deployment) of its own.
std::string build_query(const ImageBuildRequest& request) {
  std::string query = "/build?version=1&rm=1&forcerm=1&nocache=1&dockerfile=" + percent_encode(request.dockerfile);
  for (const std::string& tag : request.tags) query += "&t=" + percent_encode(tag);
  if (!request.target.empty()) query += "&target=" + percent_encode(request.target);
  if (!request.build_args.empty()) {
    nlohmann::json args = nlohmann::json::object();
    for (const auto& [name, value] : request.build_args) args[name] = value;
    query += "&buildargs=" + percent_encode(args.dump());
  }
  return query;
}

// The daemon's own wording, with what the user can change when it is a known case.
std::string refusal_hint(const ImageBuildRequest& request, std::string_view message) {
  if (message.find("failed to reach build target") != std::string_view::npos) {
    return fmt::format(" (the target '{}' is not a stage of {}: name one of its `FROM ... AS <stage>` stages)",
                       request.target, request.dockerfile);
  }
  if (message.find("Cannot locate specified Dockerfile") != std::string_view::npos) {
    return fmt::format(" ({} must be inside the build context)", request.dockerfile);
  }
  return "";
}

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

}  // namespace

Result<std::string> DockerEngine::build_image(const ImageBuildRequest& request,
                                              const std::function<void(std::string_view line)>& on_line,
                                              const std::atomic<bool>* cancel) {
  std::unique_ptr<TemporaryDirectory> scratch;
  try {
    scratch = std::make_unique<TemporaryDirectory>("slipway-build-context", request.scratch_directory);
  } catch (const std::exception& error) {
    return make_error(fmt::format("cannot prepare the build context: {}", error.what()));
  }
  std::filesystem::path tar_file = scratch->path() / "context.tar";
  if (Status written = write_build_context(request.context, tar_file, request.dockerfile); !written) {
    return written.error();
  }
  if (cancelled(cancel)) return make_error("the image build was cancelled before it started");

  HttpClientRequest post = this->request("POST", build_query(request));
  post.headers.set("Content-Type", "application/x-tar");
  post.body_file = tar_file;
  // A RUN step may compile for minutes without printing: silence is not a stalled daemon here.
  // The job's cancel and timeout bound the build instead.
  post.stall_timeout = Milliseconds(0);
  DockerMessages messages(on_line);
  post.on_body = [&](std::string_view chunk) {
    messages.feed(chunk);
    return !cancelled(cancel);
  };
  auto response = send(post);
  if (cancelled(cancel)) return make_error("the image build was cancelled");
  if (!response) return response.error();
  messages.finish();

  if (response->status != 200) {
    std::string message = messages.error().empty() ? std::to_string(response->status) : messages.error();
    return make_error(fmt::format("the Docker Engine refused the image build: {}{}", message,
                                  refusal_hint(request, message)));
  }
  if (!messages.error().empty()) {
    std::string where = messages.last_step().empty() ? "" : " at " + messages.last_step();
    return make_error(fmt::format("the image build failed{}: {}", where, messages.error()));
  }
  if (messages.image_id().empty()) return make_error("the image build ended without naming the image it built");
  if (starts_with(messages.image_id(), "sha256:")) return messages.image_id();
  // An Engine that only printed "Successfully built <short id>": ask for the full one.
  auto details = inspect_image(messages.image_id());
  if (!details) return details.error();
  if (!*details) return make_error("the image build named an image the Engine does not have: " + messages.image_id());
  return (*details)->id;
}

}  // namespace slipway
