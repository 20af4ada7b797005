// The `tag` publish step of a library: the next version tag, pushed to the repository's origin.
#include <fmt/core.h>

#include "publish/artifact_publisher.h"
#include "publish/version_tag.h"

namespace slipway {

Result<std::vector<PublishedArtifact>> ArtifactPublisher::publish_tag(const PublishStepContext& context) {
  TagPublishRequest request;
  request.workspace = context.workspace;
  request.origin = context.run->source;
  request.commit = context.run->commit;
  request.spec = *context.spec->publish->tag;
  auto published = publish_version_tag(request, context.log);
  if (!published) return published.error();
  // A library has one version per commit: the second environment of a run finds the tag the
  // first one pushed and reports it rather than releasing the commit twice.
  std::string detail = published->created ? fmt::format("annotated tag pushed to {}", published->origin)
                                          : fmt::format("{} already released this commit", published->origin);
  return std::vector<PublishedArtifact>{{"tag", published->tag, published->commit, detail}};
}

}  // namespace slipway
