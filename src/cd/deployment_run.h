// DeploymentRun: carries one deployment from its written state to an outcome (internal to cd/;
// DeploymentController owns the threads and the lanes). Each handler performs the action of the
// state the store holds and then writes the next state, so resuming after a crash is calling
// drive() again on the record as read back: every action tolerates having been done already.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret_masker.h"
#include "cd/container_runtime.h"
#include "cd/deployment_controller.h"
#include "cd/traffic_router.h"
#include "store/deployments.h"
#include "store/store.h"

namespace slipway {

// The reason a deployment superseded before its switch carries. A restart that finds it
// rolling_back has lost the in-memory outcome and reads it back from this exact reason.
inline constexpr std::string_view kSupersededReason = "superseded by a newer image";

struct DeploymentRunContext {
  Store& store;
  ContainerRuntime& containers;
  TrafficRouter& router;
  const DeploymentControllerOptions& options;
  const std::atomic<bool>& stopping;     // the server stops: leave the written state for the restart
  const std::atomic<bool>& interrupt;    // stopping, or a newer image superseded this deployment
  const std::atomic<bool>& superseded;   // a newer image arrived (honoured only before the switch)
};

class DeploymentRun {
 public:
  DeploymentRun(DeploymentRunContext context, ApplicationTarget target, DeploymentRecord deployment);

  // Returns when the deployment has an outcome, when the server is stopping, or when a state
  // cannot be written (the store's error is logged; a restart resumes from the last written one).
  void drive();

 private:
  bool begin();
  bool start_green();
  bool check_health();
  bool verify();
  bool switch_traffic();
  bool bake();
  bool drain_old();
  bool retire_old();
  bool roll_back_actions();
  // Waits (up to deploy.drain) until the production slot has no open sessions; returns how many
  // were left. A drained slot takes no new requests, so this only lets the open ones finish.
  int drain_slot(const std::string& slot);

  // Writes `transition` (state, step, event), its texts masked, updates the record and tells the
  // observer.
  bool advance();  // the current state's action
  bool enter(DeploymentTransition transition);
  // Writes rolling_back with the reason; roll_back_actions() then ends it with `outcome`.
  bool roll_back(const std::string& reason, DeploymentState outcome = DeploymentState::rolled_back);
  bool superseded_before_switch();

  ContainerSpec green_spec() const;
  std::optional<DeploymentRecord> previous() const;
  bool return_traffic_to(const DeploymentRecord& previous, std::string& problem);
  void record_rollback_deployment(const DeploymentRecord& previous, const std::string& message);
  void apply_retention();

  DeploymentRunContext context_;
  ApplicationTarget target_;
  DeploymentRecord deployment_;
  DeploymentOutcome rollback_outcome_;  // the outcome roll_back_actions() ends with
  std::shared_ptr<const SecretMasker> masker_;  // the target's secrets, over every reason and step
};

// "slipway-hello-app-production-3f2a1c9e-12": unique per deployment and per server (the owner's
// hash: two servers sharing a Docker Engine both have a deployment 12), legal for the Engine.
std::string deployment_container_name(const std::string& application, const std::string& environment,
                                      const std::string& owner, int64_t id);

// is_before_switch(DeploymentState) is in store/deployment_state.h.

}  // namespace slipway
