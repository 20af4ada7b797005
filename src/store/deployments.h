// The deployments and deployment_steps tables: each blue/green rollout of an image digest to one
// application in one environment, with every state it entered and when. A state is written (with
// its step row and a "deployment.<state>" event, in one transaction) before the action it names
// is taken (DESIGN §8), so a restarted server reads where each deployment stood.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/deployment_state.h"
#include "store/image_pushes.h"
#include "store/store.h"

namespace slipway {

struct DeploymentStepRecord {
  DeploymentState state = DeploymentState::queued;  // the state entered
  std::string message;        // what happened, for people ("green healthy: 3 checks passed")
  int64_t at_ms = 0;
};

struct DeploymentRecord {
  int64_t id = 0;
  std::string application;    // the repository's name
  std::string environment;
  std::string kind = "deploy";  // "deploy" (a new image) | "rollback" (back to an earlier one)
  std::string image;          // what the container runs: "127.0.0.1:5000/prod/hello-app@sha256:..."
  std::string digest;         // "sha256:..."
  std::string tag;            // the tag that was pushed ("" for a rollback)
  DeploymentState state = DeploymentState::queued;
  DeploymentOutcome outcome;  // nullopt while active; else succeeded, rolled_back, failed or superseded
  std::string reason;         // why it ended the way it did
  std::string slot;           // "blue" | "green": the router slot the new version takes
  int port = 0;               // its $PORT on 127.0.0.1
  std::string container;      // the container's name on the Docker Engine
  ContainerState container_state = ContainerState::none;
  int64_t previous_id = 0;    // the deployment that was live when this one switched (0: none)
  std::string settings = "{}";  // JSON: the deploy settings it was created with (health, bake...)
  int64_t created_ms = 0, updated_ms = 0, finished_ms = 0;
  std::vector<DeploymentStepRecord> steps;  // filled by find_deployment only, oldest first
};

struct DeploymentFilter {
  std::string application;    // "" any
  std::string environment;    // "" any
  bool active_only = false;   // outcome == ""
  int64_t before_id = 0;      // paging: id < before_id (0: from the newest)
  int limit = 50;
};

// Inserts the deployment (its state and first step: `message`) and a "deployment.queued" event,
// and, when `handled_push` is not empty, marks that image push handled — all or nothing.
// Returns the new id.
Result<int64_t> create_deployment(Store& store, const DeploymentRecord& deployment, const std::string& message,
                                  const std::string& handled_push = "");

// What changes when a deployment enters a state. Empty/zero fields leave the column as it is.
struct DeploymentTransition {
  DeploymentState state = DeploymentState::queued;
  std::string message;        // the step's text
  DeploymentOutcome outcome;  // set when the deployment ends (finished_ms is then set too)
  std::string reason;
  std::string slot;
  int port = 0;
  std::string container;
  std::optional<ContainerState> container_state;  // nullopt: unchanged
  int64_t previous_id = -1;   // -1: unchanged
};

// Writes the new state and fields, a step row and a "deployment.<state>" event in one
// transaction. Error when no deployment has that id.
Status record_deployment_transition(Store& store, int64_t id, const DeploymentTransition& transition);

// Only the container_state column (a retained container removed later, by retention).
Status set_deployment_container_state(Store& store, int64_t id, ContainerState container_state);

// nullopt when there is no such deployment; the steps are filled in.
Result<std::optional<DeploymentRecord>> find_deployment(Store& store, int64_t id);

// Newest first, without steps.
Result<std::vector<DeploymentRecord>> list_deployments(Store& store, const DeploymentFilter& filter);

// The version serving traffic: the newest deployment of that application and environment whose
// outcome is "succeeded". nullopt when none ever succeeded.
Result<std::optional<DeploymentRecord>> live_deployment(Store& store, const std::string& application,
                                                        const std::string& environment);

// Image pushes no deployment decision has been taken on yet, oldest first.
Result<std::vector<ImagePushRecord>> unhandled_image_pushes(Store& store, int limit);
// Marks a push handled without a deployment (it maps to no application, or is already live).
Status mark_image_push_handled(Store& store, const std::string& event_id);
// Whether any push of `digest` to `repository` was recorded (the digest poll records only what
// the webhook missed).
Result<bool> image_push_known(Store& store, const std::string& repository, const std::string& digest);

}  // namespace slipway
