#include "cd/deployment_controller.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cd/deployment_lane.h"
#include "cd/orphan_containers.h"

namespace slipway {

namespace {

using LaneKey = std::pair<std::string, std::string>;  // application, environment

nlohmann::json settings_json(const ApplicationTarget& target) {
  const DeploySpec& deploy = target.deploy;
  return {{"health",
           {{"path", deploy.health.path},
            {"interval_ms", deploy.health.interval.count()},
            {"timeout_ms", deploy.health.timeout.count()},
            {"healthy", deploy.health.healthy},
            {"unhealthy", deploy.health.unhealthy}}},
          {"bake_ms", deploy.bake.count()},
          {"drain_ms", deploy.drain.count()},
          {"retain", deploy.retain},
          {"verify", deploy.verify},
          {"router", {{"listen", target.router.listen}, {"test_listen", target.router.test_listen}}}};
}

}  // namespace

struct DeploymentController::Impl {
  DeploymentControllerOptions options;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<LaneKey, std::unique_ptr<DeploymentLane>> lanes;  // under mutex
  std::atomic<bool> stopping{false};
  bool started = false;          // under mutex
  std::unique_ptr<Store> store;  // for offer() and rollback(), under mutex

  explicit Impl(DeploymentControllerOptions o) : options(std::move(o)) {}

  DeploymentLane& lane(const std::string& application, const std::string& environment);  // under mutex
  Result<int64_t> enqueue(Store& store, DeploymentRecord record, const std::string& message,
                          const std::string& handled_push);  // under mutex
};

DeploymentLane& DeploymentController::Impl::lane(const std::string& application, const std::string& environment) {
  auto& slot = lanes[{application, environment}];
  if (!slot) slot = std::make_unique<DeploymentLane>(application, environment, LaneServices{options, mutex, changed, stopping});
  return *slot;
}

// The one way a deployment joins its lane, for an offered image and a rollback alike: recorded
// queued (with the push it handles, if any), the lane's older queued ones superseded, the lane
// woken.
Result<int64_t> DeploymentController::Impl::enqueue(Store& store, DeploymentRecord record, const std::string& message,
                                                    const std::string& handled_push) {
  auto id = create_deployment(store, record, message, handled_push);
  if (!id) return id.error();
  record.id = *id;
  if (options.observe) options.observe(record, {record.state, message, now_ms()});
  DeploymentLane& lane = this->lane(record.application, record.environment);
  lane.supersede_older(store, *id);
  lane.wake();
  changed.notify_all();
  return *id;
}

DeploymentController::DeploymentController(DeploymentControllerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

DeploymentController::~DeploymentController() { stop(); }

Result<std::optional<int64_t>> DeploymentController::offer(const ImageOffer& offer) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (!s.started) return make_error(ErrorKind::unavailable, "the deployment controller is not running");
  Store& store = *s.store;
  auto active = list_deployments(store, {offer.application, offer.environment, true, 0, 1000});
  if (!active) return active.error();
  auto live = live_deployment(store, offer.application, offer.environment);
  if (!live) return live.error();
  // The newest target: the newest active deployment, else the live version.
  std::string newest_digest = !active->empty() ? active->front().digest : (*live ? (*live)->digest : "");
  if (newest_digest == offer.digest) {
    if (!offer.push_event_id.empty()) {
      if (Status handled = mark_image_push_handled(store, offer.push_event_id); !handled) return handled.error();
    }
    return std::optional<int64_t>();
  }
  DeploymentRecord record;
  record.application = offer.application;
  record.environment = offer.environment;
  record.image = offer.image;
  record.digest = offer.digest;
  record.tag = offer.tag;
  auto target = s.options.resolve(offer.application, offer.environment);
  if (target) record.settings = settings_json(*target).dump();
  std::string message = fmt::format("image {} pushed{}", offer.image, offer.tag.empty() ? "" : " as " + offer.tag);
  auto id = s.enqueue(store, record, message, offer.push_event_id);
  if (!id) return id.error();
  return std::optional<int64_t>(*id);
}

Result<int64_t> DeploymentController::rollback(const std::string& application, const std::string& environment,
                                               const std::string& reason) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (!s.started) return make_error(ErrorKind::unavailable, "the deployment controller is not running");
  Store& store = *s.store;
  auto live = live_deployment(store, application, environment);
  if (!live) return live.error();
  if (!*live) {
    return make_error(ErrorKind::conflict,
                      fmt::format("nothing of {} is live in {}: there is nothing to roll back", application, environment));
  }
  auto active = list_deployments(store, {application, environment, true, 0, 1000});
  if (!active) return active.error();
  for (const DeploymentRecord& other : *active) {
    if (!is_before_switch(other.state)) {
      return make_error(ErrorKind::conflict,
                        fmt::format("deployment #{} of {} to {} is {} (traffic already moved): roll back when it has "
                                    "finished (slipway deploy status {})",
                                    other.id, application, environment, to_text(other.state), application));
    }
  }
  // The previous version: the newest succeeded deployment of another digest than the live one.
  auto history = list_deployments(store, {application, environment, false, 0, 1000});
  if (!history) return history.error();
  const DeploymentRecord* target = nullptr;
  for (const DeploymentRecord& candidate : *history) {
    if (candidate.outcome == DeploymentState::succeeded && candidate.digest != (*live)->digest) {
      target = &candidate;
      break;
    }
  }
  if (!target) {
    return make_error(ErrorKind::conflict,
                      fmt::format("{} has had only one version in {}: there is no earlier one to roll back to",
                                  application, environment));
  }
  DeploymentRecord record;
  record.application = application;
  record.environment = environment;
  record.kind = "rollback";
  record.image = target->image;
  record.digest = target->digest;
  record.tag = target->tag;
  record.reason = reason;
  nlohmann::json settings = nlohmann::json::parse(target->settings, nullptr, false);
  if (!settings.is_object()) settings = nlohmann::json::object();
  if (target->container_state == ContainerState::stopped) {  // retained: started again instead of made anew
    record.container = target->container;
    record.port = target->port;
    settings["reuse_from"] = target->id;
  }
  record.settings = settings.dump();
  std::string message = fmt::format("rollback to #{} ({}) requested: {}", target->id,
                                    target->tag.empty() ? target->digest : target->tag, reason);
  return s.enqueue(store, record, message, "");
}

Status DeploymentController::start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  if (s.started) return {};
  if (!s.options.containers || !s.options.resolve) {
    return make_error("the deployment controller needs a container runtime and a target resolver");
  }
  auto store = Store::open(s.options.database);
  if (!store) return store.error();
  s.store = std::move(*store);
  s.stopping = false;
  if (Status cleaned = remove_orphan_containers(*s.store, *s.options.containers, s.options.owner); !cleaned) spdlog::warn("deployments: {}", cleaned.error().message);
  // Every application and environment with a deployment gets its lane back: unfinished ones
  // resume from their written state, and a router that did not survive is started again.
  auto all = list_deployments(*s.store, {"", "", false, 0, 100000});
  if (!all) return all.error();
  std::set<LaneKey> keys;
  for (const DeploymentRecord& deployment : *all) keys.insert({deployment.application, deployment.environment});
  s.started = true;
  for (const auto& [application, environment] : keys) s.lane(application, environment).wake();
  s.changed.notify_all();
  return {};
}

void DeploymentController::stop() {
  Impl& s = *impl_;
  std::map<LaneKey, std::unique_ptr<DeploymentLane>> lanes;
  {
    std::lock_guard lock(s.mutex);
    if (!s.started) return;
    s.started = false;
    s.stopping = true;
    for (auto& [key, lane] : s.lanes) lane->interrupt();
    lanes.swap(s.lanes);
  }
  s.changed.notify_all();
  lanes.clear();  // each lane joins its thread, which may need the mutex on its way out
  std::lock_guard lock(s.mutex);
  s.store.reset();
}

bool DeploymentController::wait_idle(const std::string& application, const std::string& environment,
                                     Milliseconds timeout) {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  return s.changed.wait_for(lock, timeout, [&] {
    auto found = s.lanes.find({application, environment});
    return found == s.lanes.end() || found->second->idle();
  });
}

}  // namespace slipway
