#include "cd/deployment_run.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/ports.h"
#include "base/strings.h"
#include "base/time.h"
#include "cd/container_names.h"
#include "cd/health_gate.h"
#include "cd/verify_command.h"

namespace slipway {

namespace {

std::string version_name(const DeploymentRecord& deployment) {
  std::string name = "#" + std::to_string(deployment.id) + " " + short_digest(deployment.digest);
  if (!deployment.tag.empty()) name += " (" + deployment.tag + ")";
  return name;
}

int64_t reused_from(const DeploymentRecord& deployment) {
  auto settings = nlohmann::json::parse(deployment.settings, nullptr, false);
  if (!settings.is_object() || !settings.contains("reuse_from") || !settings["reuse_from"].is_number_integer()) {
    return 0;
  }
  return settings["reuse_from"].get<int64_t>();
}

// Everything secret the deployment holds: its deploy secrets and the registry password.
std::shared_ptr<const SecretMasker> deployment_masker(const ApplicationTarget& target) {
  std::map<std::string, std::string> secrets = target.secrets;
  if (target.credentials) secrets["registry password"] = target.credentials->password;
  return make_masker(secrets);
}

}  // namespace

std::string deployment_container_name(const std::string& application, const std::string& environment,
                                      const std::string& owner, int64_t id) {
  return engine_container_name({application, environment, owner_tag(owner), std::to_string(id)});
}

DeploymentRun::DeploymentRun(DeploymentRunContext context, ApplicationTarget target, DeploymentRecord deployment)
    : context_(context), target_(std::move(target)), deployment_(std::move(deployment)),
      masker_(deployment_masker(target_)) {}

void DeploymentRun::drive() {
  while (!deployment_.outcome && !context_.stopping) {
    if (!advance()) return;
  }
}

// One action per state; a final state has none (its outcome is set, so drive() has stopped).
bool DeploymentRun::advance() {
  switch (deployment_.state) {
    case DeploymentState::queued: return begin();
    case DeploymentState::starting: return start_green();
    case DeploymentState::health_checking: return check_health();
    case DeploymentState::verifying: return verify();
    case DeploymentState::switching: return switch_traffic();
    case DeploymentState::baking: return bake();
    case DeploymentState::draining: return drain_old();
    case DeploymentState::retiring: return retire_old();
    case DeploymentState::rolling_back: return roll_back_actions();
    case DeploymentState::succeeded:
    case DeploymentState::rolled_back:
    case DeploymentState::failed:
    case DeploymentState::superseded:
      break;
  }
  std::string why = fmt::format("a final state ({}) without an outcome", to_text(deployment_.state));
  return enter({DeploymentState::failed, why, DeploymentState::failed, why});
}

bool DeploymentRun::enter(DeploymentTransition transition) {
  // A stopping server writes nothing more: the state written last is where the restart resumes,
  // repeating that state's action (every action repeats safely). This is also exactly what a
  // kill between an action and its write leaves behind.
  if (context_.stopping) return false;
  // Reasons and steps are readable with a read-only token and go to chat: whatever text reached
  // them (a command's output, an error quoting a response) is masked here, in one place.
  transition.reason = masker_->mask(transition.reason);
  transition.message = masker_->mask(transition.message);
  Status written = record_deployment_transition(context_.store, deployment_.id, transition);
  if (!written) {
    spdlog::error("deployment #{} of {} to {}: cannot record '{}': {}", deployment_.id, deployment_.application,
                  deployment_.environment, to_text(transition.state), written.error().message);
    return false;
  }
  deployment_.state = transition.state;
  if (transition.outcome) deployment_.outcome = transition.outcome;
  if (!transition.reason.empty()) deployment_.reason = transition.reason;
  if (!transition.slot.empty()) deployment_.slot = transition.slot;
  if (transition.port) deployment_.port = transition.port;
  if (!transition.container.empty()) deployment_.container = transition.container;
  if (transition.container_state) deployment_.container_state = *transition.container_state;
  if (transition.previous_id >= 0) deployment_.previous_id = transition.previous_id;
  if (context_.options.observe) {
    context_.options.observe(deployment_, DeploymentStepRecord{transition.state, transition.message, now_ms()});
  }
  return true;
}

bool DeploymentRun::superseded_before_switch() {
  if (!context_.superseded) return false;
  return roll_back(std::string(kSupersededReason), DeploymentState::superseded);
}

bool DeploymentRun::roll_back(const std::string& reason, DeploymentState outcome) {
  rollback_outcome_ = outcome;
  return enter({DeploymentState::rolling_back, reason, std::nullopt, reason});
}

std::optional<DeploymentRecord> DeploymentRun::previous() const {
  if (deployment_.previous_id == 0) return std::nullopt;
  auto found = find_deployment(context_.store, deployment_.previous_id);
  if (!found || !*found) return std::nullopt;
  return **found;
}

// queued → starting: choose green's slot, port and name and write them before anything exists,
// so that a crash from here on knows which container to look for.
bool DeploymentRun::begin() {
  if (context_.superseded) {
    return enter({DeploymentState::superseded, "superseded by a newer image before it started",
                  DeploymentState::superseded, std::string(kSupersededReason)});
  }
  auto live = live_deployment(context_.store, deployment_.application, deployment_.environment);
  if (!live) return enter({DeploymentState::failed, live.error().message, DeploymentState::failed, live.error().message});
  std::string slot = *live ? std::string(other_slot((*live)->slot)) : kBlueSlot;
  int64_t previous_id = *live ? (*live)->id : 0;
  bool reusing = !deployment_.container.empty() && deployment_.port != 0;
  int port = deployment_.port;
  if (!reusing) {
    auto free_port = free_loopback_port();
    if (!free_port) return enter({DeploymentState::failed, free_port.error().message, DeploymentState::failed,
                                    free_port.error().message});
    port = *free_port;
  }
  std::string container =
      reusing ? deployment_.container
              : deployment_container_name(deployment_.application, deployment_.environment, context_.options.owner,
                                          deployment_.id);
  std::string message = fmt::format("starting {} on 127.0.0.1:{} in the {} slot{}", deployment_.image, port, slot,
                                    reusing ? " (its retained container)" : "");
  DeploymentTransition starting{DeploymentState::starting, message};
  starting.slot = slot;
  starting.port = port;
  starting.container = container;
  starting.previous_id = previous_id;
  return enter(starting);
}

ContainerSpec DeploymentRun::green_spec() const {
  ContainerSpec spec;
  spec.name = deployment_.container;
  spec.image = deployment_.image;
  spec.env = target_.secrets;
  spec.env["PORT"] = std::to_string(deployment_.port);
  spec.env["SLIPWAY_APPLICATION"] = deployment_.application;
  spec.env["SLIPWAY_ENVIRONMENT"] = deployment_.environment;
  spec.labels = {{"slipway.application", deployment_.application},
                 {"slipway.environment", deployment_.environment},
                 {"slipway.deployment", std::to_string(deployment_.id)},
                 {"slipway.owner", context_.options.owner}};
  spec.registry_credentials = target_.credentials;
  return spec;
}

// starting → health_checking. A container of this name may exist from before a crash: a
// retained one (a rollback) is started again; any other is replaced, since it may be half made.
bool DeploymentRun::start_green() {
  int64_t source = reused_from(deployment_);
  auto existing = context_.containers.inspect(deployment_.container);
  if (!existing) return roll_back("green could not be inspected: " + existing.error().message);
  if (source != 0 && *existing) {
    if (Status started = context_.containers.start(deployment_.container); !started) {
      return roll_back("the retained container did not start: " + started.error().message);
    }
    if (Status moved = set_deployment_container_state(context_.store, source, ContainerState::moved); !moved) {
      spdlog::warn("deployment #{}: {}", deployment_.id, moved.error().message);
    }
  } else {
    if (*existing) {
      if (Status removed = context_.containers.remove(deployment_.container, true); !removed) {
        return roll_back("a leftover container could not be removed: " + removed.error().message);
      }
    }
    auto created = context_.containers.create(green_spec());
    if (!created) return roll_back("green could not be created: " + created.error().message);
    if (Status started = context_.containers.start(deployment_.container); !started) {
      return roll_back("green did not start: " + started.error().message);
    }
  }
  DeploymentTransition running{DeploymentState::health_checking,
                               fmt::format("green running: container {} on 127.0.0.1:{}", deployment_.container,
                                           deployment_.port)};
  running.container_state = ContainerState::running;
  return enter(running);
}

bool DeploymentRun::check_health() {
  if (superseded_before_switch()) return true;
  HealthGate gate(target_.deploy.health, &context_.containers, context_.options.start_timeout);
  GateOutcome outcome = gate.wait_until_healthy({deployment_.port, deployment_.container}, context_.interrupt);
  if (context_.stopping) return false;
  if (!outcome.passed) {
    if (context_.superseded) return superseded_before_switch();
    return roll_back("health check failed before the switch: " + outcome.reason);
  }
  bool has_test_stage = !target_.router.test_listen.empty();
  return enter({has_test_stage ? DeploymentState::verifying : DeploymentState::switching,
                "green " + outcome.reason});  // "green healthy: 3 consecutive checks passed (200 in 0.7 ms)"
}

// The test listener points at green; deploy.verify (when set) must pass against it.
bool DeploymentRun::verify() {
  if (Status slot = context_.router.set_slot(kTestBackend, deployment_.slot, deployment_.port); !slot) {
    return roll_back("the test listener could not be pointed at green: " + slot.error().message);
  }
  if (Status switched = context_.router.switch_to(kTestBackend, deployment_.slot); !switched) {
    return roll_back("the test listener could not be pointed at green: " + switched.error().message);
  }
  std::string message = "test traffic on http://" + target_.router.test_listen;
  if (!target_.deploy.verify.empty()) {
    VerifyRequest request;
    request.command = target_.deploy.verify;
    request.variables = {{"SLIPWAY_TEST_URL", "http://" + target_.router.test_listen},
                         {"SLIPWAY_APPLICATION", deployment_.application},
                         {"SLIPWAY_ENVIRONMENT", deployment_.environment},
                         {"SLIPWAY_IMAGE", deployment_.image}};
    request.secrets = target_.secrets;
    request.test_listen = target_.router.test_listen;
    request.timeout = context_.options.verify_timeout;
    request.sandbox = context_.options.verify_sandbox;
    auto verified = run_verify_command(request);
    if (!verified) return roll_back("deploy.verify: " + verified.error().message);
    if (!verified->passed) {
      std::string why = verified->timed_out ? "timed out" : fmt::format("exited with {}", verified->exit_code);
      return roll_back(fmt::format("deploy.verify `{}` {}: {}", target_.deploy.verify, why, verified->output_tail));
    }
    message += "; deploy.verify passed";
  }
  if (superseded_before_switch()) return true;
  return enter({DeploymentState::switching, message});
}

// The switch: green ready, then blue drained, in two runtime-API commands (never a reload).
bool DeploymentRun::switch_traffic() {
  if (Status slot = context_.router.set_slot(kProductionBackend, deployment_.slot, deployment_.port); !slot) {
    return roll_back("the switch failed: " + slot.error().message);
  }
  if (Status switched = context_.router.switch_to(kProductionBackend, deployment_.slot); !switched) {
    return roll_back("the switch failed: " + switched.error().message);
  }
  return enter({DeploymentState::baking, fmt::format("traffic switched to {} ({} slot, 127.0.0.1:{})", version_name(deployment_),
                                      deployment_.slot, deployment_.port)});
}

bool DeploymentRun::bake() {
  if (target_.deploy.bake.count() > 0) {
    HealthGate gate(target_.deploy.health, &context_.containers, context_.options.start_timeout);
    GateOutcome outcome = gate.watch({deployment_.port, deployment_.container}, target_.deploy.bake, context_.stopping);
    if (context_.stopping) return false;
    if (!outcome.passed) return roll_back("failed during the bake: " + outcome.reason);
  }
  return enter({DeploymentState::draining, "bake passed: healthy for " + format_duration(target_.deploy.bake)});
}

// Blue takes no new requests since the switch; its open ones (long polls, WebSockets) get up to
// `drain` to finish before it is stopped.
bool DeploymentRun::drain_old() {
  auto old = previous();
  std::string message = "nothing to drain: this is the first version";
  if (old && old->slot != deployment_.slot) {
    int open = drain_slot(old->slot);
    if (context_.stopping) return false;
    if (Status maint = context_.router.set_state(kProductionBackend, old->slot, SlotAdminState::maint); !maint) {
      spdlog::warn("deployment #{}: {}", deployment_.id, maint.error().message);
    }
    message = open == 0 ? fmt::format("old version {} drained: no open requests", version_name(*old))
                        : fmt::format("drain window of {} ended with {} sessions open on {}",
                                      format_duration(target_.deploy.drain), open, version_name(*old));
  }
  return enter({DeploymentState::retiring, message});
}

int DeploymentRun::drain_slot(const std::string& slot) {
  auto deadline = std::chrono::steady_clock::now() + target_.deploy.drain;
  for (;;) {
    auto sessions = context_.router.open_sessions(kProductionBackend, slot);
    int open = sessions ? *sessions : 0;
    if (open == 0 || std::chrono::steady_clock::now() >= deadline || context_.stopping) return open;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Blue is stopped (kept for an instant rollback), then retention removes what is beyond it.
bool DeploymentRun::retire_old() {
  auto old = previous();
  std::string message = "done";
  if (old && old->container_state == ContainerState::running && old->container != deployment_.container) {
    if (Status stopped = context_.containers.stop(old->container, std::chrono::seconds(10)); !stopped) {
      spdlog::warn("deployment #{}: stopping {}: {}", deployment_.id, old->container, stopped.error().message);
    }
    if (Status kept = set_deployment_container_state(context_.store, old->id, ContainerState::stopped); !kept) {
      spdlog::warn("deployment #{}: {}", deployment_.id, kept.error().message);
    }
    message = fmt::format("old version {} stopped", version_name(*old));
  }
  apply_retention();
  DeploymentTransition done{DeploymentState::succeeded, message + fmt::format("; {} live, retain {}", version_name(deployment_),
                                                               target_.deploy.retain)};
  done.outcome = DeploymentState::succeeded;
  return enter(done);
}

// Keeps the newest `retain` stopped containers of this application and environment; removes
// older ones. Containers of other environments are never looked at.
void DeploymentRun::apply_retention() {
  auto all = list_deployments(context_.store, {deployment_.application, deployment_.environment, false, 0, 1000});
  if (!all) {
    spdlog::warn("deployment #{}: retention: {}", deployment_.id, all.error().message);
    return;
  }
  int kept = 0;
  for (const DeploymentRecord& old : *all) {  // newest first
    if (old.id == deployment_.id || old.container_state != ContainerState::stopped) continue;
    if (kept < target_.deploy.retain) {
      ++kept;
      continue;
    }
    if (Status removed = context_.containers.remove(old.container, true); !removed) {
      spdlog::warn("deployment #{}: removing {}: {}", deployment_.id, old.container, removed.error().message);
      continue;
    }
    (void)set_deployment_container_state(context_.store, old.id, ContainerState::removed);
  }
}

}  // namespace slipway
