// The rolling_back state of DeploymentRun: traffic back on (or kept on) the previous version,
// green removed, and the return recorded as a rollback deployment of its own. Every action
// tolerates having been done already, since a restart repeats the state from its start.
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/time.h"
#include "cd/deployment_run.h"
#include "cd/health_gate.h"

namespace slipway {

namespace {

// The outcome a rolling_back deployment ends with, when the restart lost the in-memory one.
DeploymentState outcome_for(const DeploymentOutcome& remembered, const std::string& reason) {
  if (remembered) return *remembered;
  return reason == kSupersededReason ? DeploymentState::superseded : DeploymentState::rolled_back;
}

}  // namespace

// The previous version takes the traffic again: its container running (started again when a
// restart found it stopped, and then health-checked first), its slot ready, green's drained.
bool DeploymentRun::return_traffic_to(const DeploymentRecord& old, std::string& problem) {
  auto details = context_.containers.inspect(old.container);
  if (!details || !*details) {
    problem = fmt::format("the previous version's container {} is gone", old.container);
    return false;
  }
  if (!(*details)->running()) {
    if (Status started = context_.containers.start(old.container); !started) {
      problem = started.error().message;
      return false;
    }
    std::atomic<bool> never{false};
    HealthGate gate(target_.deploy.health, &context_.containers, context_.options.start_timeout);
    GateOutcome healthy = gate.wait_until_healthy({old.port, old.container}, never);
    if (!healthy.passed) {
      problem = "the previous version is not healthy either: " + healthy.reason;
      return false;
    }
  }
  if (Status slot = context_.router.set_slot(kProductionBackend, old.slot, old.port); !slot) {
    problem = slot.error().message;
    return false;
  }
  if (Status switched = context_.router.switch_to(kProductionBackend, old.slot); !switched) {
    problem = switched.error().message;
    return false;
  }
  return true;
}

// "Each rollback is recorded as a deployment of its own": the previous version, live again,
// as a succeeded deployment of kind "rollback" that names the one it replaced. Created once.
void DeploymentRun::record_rollback_deployment(const DeploymentRecord& old, const std::string& message) {
  auto recent = list_deployments(context_.store, {deployment_.application, deployment_.environment, false, 0, 50});
  if (recent) {
    for (const DeploymentRecord& existing : *recent) {
      if (existing.kind == "rollback" && existing.previous_id == deployment_.id) return;
    }
  }
  DeploymentRecord rollback;
  rollback.application = deployment_.application;
  rollback.environment = deployment_.environment;
  rollback.kind = "rollback";
  rollback.image = old.image;
  rollback.digest = old.digest;
  rollback.tag = old.tag;
  rollback.state = DeploymentState::switching;
  rollback.slot = old.slot;
  rollback.port = old.port;
  rollback.container = old.container;
  rollback.container_state = ContainerState::running;
  rollback.previous_id = deployment_.id;
  rollback.settings = deployment_.settings;
  auto id = create_deployment(context_.store, rollback, message);
  if (!id) {
    spdlog::error("deployment #{}: cannot record its rollback: {}", deployment_.id, id.error().message);
    return;
  }
  rollback.id = *id;
  (void)set_deployment_container_state(context_.store, old.id, ContainerState::moved);
  DeploymentTransition done{DeploymentState::succeeded, fmt::format("#{} live again after #{} was rolled back: {}", old.id,
                                                     deployment_.id, deployment_.reason)};
  done.outcome = DeploymentState::succeeded;
  if (Status written = record_deployment_transition(context_.store, *id, done); !written) {
    spdlog::error("deployment #{}: {}", *id, written.error().message);
    return;
  }
  if (context_.options.observe) {
    rollback.state = DeploymentState::succeeded;
    rollback.outcome = DeploymentState::succeeded;
    context_.options.observe(rollback, DeploymentStepRecord{DeploymentState::succeeded, done.message, now_ms()});
  }
}

bool DeploymentRun::roll_back_actions() {
  DeploymentState outcome = outcome_for(rollback_outcome_, deployment_.reason);
  auto old = previous();
  bool has_old = old && old->outcome == DeploymentState::succeeded && !old->container.empty() && old->container != deployment_.container;
  std::string message;
  if (has_old) {
    std::string problem;
    if (!return_traffic_to(*old, problem)) {
      // Nothing healthy to return to: green stays, since it is the best there is. Recorded as
      // failed so that a person looks.
      return enter({DeploymentState::failed, "cannot return to " + std::to_string(old->id) + ": " + problem, DeploymentState::failed,
                    deployment_.reason + "; and cannot return to #" + std::to_string(old->id) + ": " + problem});
    }
    message = fmt::format("traffic on #{} ({})", old->id, old->tag.empty() ? old->digest.substr(0, 19) : old->tag);
  } else {
    message = "nothing was live before: no traffic moved";
  }
  if (!deployment_.slot.empty() && (!has_old || old->slot != deployment_.slot)) {
    // Green may have had traffic (a bake failure): its open requests finish, up to `drain`, as
    // blue's would, before it goes. Before a switch it has none and this returns at once.
    if (has_old) {
      int left = drain_slot(deployment_.slot);
      if (context_.stopping) return false;
      if (left > 0) message += fmt::format("; {} requests still open on green after the drain window", left);
    }
    (void)context_.router.set_state(kProductionBackend, deployment_.slot, SlotAdminState::maint);
    if (!target_.router.test_listen.empty()) {
      (void)context_.router.set_state(kTestBackend, deployment_.slot, SlotAdminState::maint);
    }
  }
  if (!deployment_.container.empty() && (!has_old || old->container != deployment_.container)) {
    (void)context_.containers.stop(deployment_.container, std::chrono::seconds(5));
    if (Status removed = context_.containers.remove(deployment_.container, true); !removed) {
      spdlog::warn("deployment #{}: removing green {}: {}", deployment_.id, deployment_.container,
                   removed.error().message);
    }
  }
  if (has_old && outcome == DeploymentState::rolled_back) {
    record_rollback_deployment(*old, "rolling back: " + deployment_.reason);
  }
  if (!has_old && outcome == DeploymentState::rolled_back) outcome = DeploymentState::failed;
  // It ends in the state its outcome names (rolled_back, superseded or failed).
  DeploymentTransition done{outcome, message + "; green removed", outcome, deployment_.reason};
  done.container_state = ContainerState::removed;
  return enter(done);
}

}  // namespace slipway
