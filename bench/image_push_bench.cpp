// One push_image, timed, for bench/image_push.sh: pushes IMAGE to REGISTRY/REPOSITORY under the
// given tags with the credentials in $REGISTRY_USER / $REGISTRY_PASSWORD (never argv), then
// prints one JSON line: {"ms": ..., "uploaded_blobs": ..., "reused_blobs": ..., "bytes": ...,
// "digest": ...}; "ms" is push_image alone, "total_ms" adds the credentials check the publish
// step makes first (GET /v2/). Progress lines go to stderr; on failure, the error, and exit 1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "publish/docker_engine.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"

using namespace slipway;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s REGISTRY REPOSITORY IMAGE TAG [TAG...]\n", argv[0]);
    return 2;
  }
  const char* user = std::getenv("REGISTRY_USER");
  const char* password = std::getenv("REGISTRY_PASSWORD");
  RegistryEndpoint endpoint{argv[1], {user ? user : "", password ? password : ""}, ""};
  std::string repository = argv[2];
  std::string image = argv[3];
  std::vector<std::string> tags(argv + 4, argv + argc);
  const char* socket = std::getenv("DOCKER_SOCKET");
  DockerEngine engine(socket ? socket : "/var/run/docker.sock");
  TemporaryDirectory scratch("slipway-push-bench");

  // As the publish step does: the credentials are checked first (which also learns the auth
  // scheme), then the push. "ms" is push_image alone; "total_ms" includes the check.
  auto started = std::chrono::steady_clock::now();
  RegistryClient registry(endpoint);
  if (Status access = registry.check_access(); !access) {
    std::fprintf(stderr, "push failed: %s\n", access.error().message.c_str());
    return 1;
  }
  auto push_started = std::chrono::steady_clock::now();
  auto pushed = push_image(engine, registry, image, repository, tags, scratch.path(),
                           [](std::string_view line) { std::fprintf(stderr, "  %.*s\n", static_cast<int>(line.size()), line.data()); });
  auto finished = std::chrono::steady_clock::now();
  double ms = std::chrono::duration<double, std::milli>(finished - push_started).count();
  double total_ms = std::chrono::duration<double, std::milli>(finished - started).count();
  if (!pushed) {
    std::fprintf(stderr, "push failed: %s\n", pushed.error().message.c_str());
    return 1;
  }
  nlohmann::json result = {{"ms", ms},
                           {"total_ms", total_ms},
                           {"uploaded_blobs", pushed->uploaded_blobs},
                           {"reused_blobs", pushed->reused_blobs},
                           {"bytes", pushed->bytes_uploaded},
                           {"digest", pushed->digest}};
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
