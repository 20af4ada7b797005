// ArtifactPublisher: the Publisher the server runs publish jobs with (ci/publish_job.h). For each
// step of a publish job it takes the environment's infrastructure from the server configuration
// and the credentials from that environment's secrets, and produces a verified artifact:
//   image          — built once per run through the Docker Engine, pushed to the environment's
//                    registry as <sha_short> and latest, verified by digest;
//   dags           — the repository's DAG folder synced to the environment's bucket;
//   function:NAME  — the folder packed as a deterministic zip and uploaded;
//   tag            — the next vX.Y.Z annotated tag on the commit, pushed to origin.
// Thread-safe: the server's workers share one; a run's image is built once, whatever the number
// of environments it is pushed to.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ci/publish_job.h"
#include "spec/environment_secrets.h"
#include "spec/server_config.h"

namespace slipway {

class ArtifactPublisher : public Publisher {
 public:
  ArtifactPublisher(ServerConfig config, std::string docker_socket = "/var/run/docker.sock");

  Result<std::vector<PublishedArtifact>> publish(const PlannedStep& step, const PublishStepContext& context) override;

  // Forgets the run's built image; idempotent.
  void run_finished(int64_t run_id) override;

 private:
  Result<std::vector<PublishedArtifact>> publish_image(const EnvironmentConfig& environment,
                                                       const PublishStepContext& context);
  Result<std::vector<PublishedArtifact>> publish_dags(const EnvironmentConfig& environment,
                                                      const PublishStepContext& context);
  Result<std::vector<PublishedArtifact>> publish_function(const EnvironmentConfig& environment,
                                                          const std::string& name, const PublishStepContext& context);
  Result<std::vector<PublishedArtifact>> publish_tag(const PublishStepContext& context);
  // The run's image, built on first use; later environments reuse it.
  Result<std::string> built_image(const PublishStepContext& context);

  ServerConfig config_;
  std::string docker_socket_;
  std::mutex mutex_;                                      // guards images_
  std::map<int64_t, std::shared_ptr<struct RunImage>> images_;
};

// The publish job's secrets (its environment's only), for the credentials its steps need.
EnvironmentSecrets environment_secrets(const PublishStepContext& context);

}  // namespace slipway
