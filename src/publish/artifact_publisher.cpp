#include "publish/artifact_publisher.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

ArtifactPublisher::ArtifactPublisher(ServerConfig config, std::string docker_socket)
    : config_(std::move(config)), docker_socket_(std::move(docker_socket)) {}

EnvironmentSecrets environment_secrets(const PublishStepContext& context) {
  static const std::map<std::string, std::string> kNone;
  return EnvironmentSecrets(context.secrets ? *context.secrets : kNone, context.run ? context.run->repository : "*",
                            context.environment);
}

Result<std::vector<PublishedArtifact>> ArtifactPublisher::publish(const PlannedStep& step,
                                                                  const PublishStepContext& context) {
  const EnvironmentConfig* environment = nullptr;
  for (const auto& candidate : config_.environments) {
    if (candidate.name == context.environment) environment = &candidate;
  }
  if (!environment) {
    return make_error(fmt::format("the server's configuration has no environment '{}'", context.environment));
  }
  if (step.name == "image") return publish_image(*environment, context);
  if (step.name == "dags") return publish_dags(*environment, context);
  if (starts_with(step.name, "function:")) return publish_function(*environment, step.name.substr(9), context);
  if (step.name == "tag") return publish_tag(context);
  return make_error(fmt::format("unknown publish step '{}'", step.name));
}

}  // namespace slipway
