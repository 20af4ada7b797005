#include "publish/artifact_publisher.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

ArtifactPublisher::ArtifactPublisher(ServerConfig config, std::string docker_socket)
    : config_(std::move(config)), docker_socket_(std::move(docker_socket)) {}

Result<std::string> required_secret(const PublishStepContext& context, const std::string& name, std::string_view use) {
  if (context.secrets) {
    auto found = context.secrets->find(name);
    if (found != context.secrets->end()) return found->second;
  }
  return make_error(fmt::format("the secret {} ({}) is not set for environment '{}': set it with "
                                "`slipway secret set '*' {} {}` (value on stdin)",
                                name, use, context.environment, context.environment, name));
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
