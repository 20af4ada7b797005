#include "cd/deployment_controller.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cd/deployment_run.h"
#include "cd/haproxy_router.h"
#include "cd/image_retention.h"
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

// After a deployment ends, the versions it retired may have left the last use of their images:
// the Engine's disk stays flat (cd/image_retention.h). A failure is logged; it never fails or
// delays a deployment, and the server's retention pass sweeps again.
void remove_images_no_one_needs(Store& store, ContainerRuntime& containers) {
  auto sweep = remove_unused_images(store, containers);
  if (!sweep) return spdlog::warn("image retention: {}", sweep.error().message);
  for (const std::string& problem : sweep->problems) spdlog::warn("image retention: {}", problem);
  for (const std::string& image : sweep->removed) spdlog::info("image retention: removed {}", image);
}

}  // namespace

// One application in one environment: deployments there run one at a time, on this thread.
struct DeploymentLane {
  std::string application;
  std::string environment;
  std::atomic<bool> interrupt{false};
  std::atomic<bool> superseded{false};
  bool idle = true;             // under Impl::mutex
  bool wake = false;            // under Impl::mutex: something new is queued
  int64_t newest_id = 0;        // under Impl::mutex: older deployments are superseded by it
  std::unique_ptr<HaproxyRouter> router;
  std::thread thread;
};

struct DeploymentController::Impl {
  DeploymentControllerOptions options;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<LaneKey, std::unique_ptr<DeploymentLane>> lanes;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::unique_ptr<Store> store;  // for offer() and rollback(), under mutex

  explicit Impl(DeploymentControllerOptions o) : options(std::move(o)) {}

  DeploymentLane& lane(const std::string& application, const std::string& environment);  // under mutex
  void run_lane(DeploymentLane& lane);
  Status prepare_router(DeploymentLane& lane, Store& store, const ApplicationTarget& target);
  void supersede_others(Store& store, DeploymentLane& lane, int64_t newest_id);
  Result<int64_t> enqueue(Store& store, DeploymentRecord record, const std::string& message,
                          const std::string& handled_push);  // under mutex
};

DeploymentLane& DeploymentController::Impl::lane(const std::string& application, const std::string& environment) {
  auto& slot = lanes[{application, environment}];
  if (!slot) {
    slot = std::make_unique<DeploymentLane>();
    slot->application = application;
    slot->environment = environment;
    DeploymentLane* lane = slot.get();
    lane->idle = false;
    lane->thread = std::thread([this, lane] { run_lane(*lane); });
  }
  return *slot;
}

// The router starts with the lane (or is adopted when it outlived a restart). A router started
// afresh knows no version: the live one is pointed at again before anything else happens.
Status DeploymentController::Impl::prepare_router(DeploymentLane& lane, Store& store, const ApplicationTarget& target) {
  if (lane.router) return {};
  if (target.router.listen.empty()) {
    return make_error(fmt::format("environment '{}' has no router in the server's configuration: add "
                                  "`router: {{ listen: 127.0.0.1:PORT }}` under it",
                                  target.environment));
  }
  HaproxyRouterSettings settings{options.routers_directory / (lane.application + "-" + lane.environment),
                                 target.router.listen, target.router.test_listen,
                                 lane.application + "/" + lane.environment, "haproxy"};
  auto router = std::make_unique<HaproxyRouter>(settings);
  bool adopted = router->pid() != 0;
  if (Status started = router->start(); !started) return started;
  if (!adopted) {
    auto live = live_deployment(store, lane.application, lane.environment);
    if (live && *live && (*live)->port != 0) {
      const DeploymentRecord& version = **live;
      (void)options.containers->start(version.container);
      if (Status slot = router->set_slot(kProductionBackend, version.slot, version.port); !slot) return slot;
      if (Status switched = router->switch_to(kProductionBackend, version.slot); !switched) return switched;
      spdlog::info("router of {}/{} started; traffic on #{}", lane.application, lane.environment, version.id);
    }
  }
  lane.router = std::move(router);
  return {};
}

void DeploymentController::Impl::run_lane(DeploymentLane& lane) {
  auto store = Store::open(options.database);
  if (!store) {
    spdlog::error("deployments of {}/{}: {}", lane.application, lane.environment, store.error().message);
    return;
  }
  // A router that did not survive (HAProxy gone with a reboot) is started and pointed at the
  // live version now, not when the next deployment comes.
  if (auto live = live_deployment(**store, lane.application, lane.environment); live && *live) {
    auto target = options.resolve(lane.application, lane.environment);
    Status router = target ? prepare_router(lane, **store, *target) : Status(target.error());
    if (!router) {
      spdlog::error("router of {}/{}: {}", lane.application, lane.environment, router.error().message);
    }
  }
  while (!stopping) {
    auto active = list_deployments(**store, {lane.application, lane.environment, true, 0, 1000});
    if (!active || active->empty()) {
      std::unique_lock lock(mutex);
      lane.idle = true;
      changed.notify_all();
      changed.wait(lock, [&] { return stopping || lane.wake; });
      lane.wake = false;
      lane.idle = false;
      continue;
    }
    DeploymentRecord deployment = active->back();  // the oldest: the one in progress, if any
    {
      std::lock_guard lock(mutex);
      lane.superseded = deployment.id < lane.newest_id;
      lane.interrupt = stopping || lane.superseded;
    }
    // Newer ones may have come in while this waited: the next offer supersedes as usual.
    auto target = options.resolve(lane.application, lane.environment);
    Status router = target ? prepare_router(lane, **store, *target) : Status(target.error());
    if (!router) {
      if (is_before_switch(deployment.state)) {
        DeploymentTransition failed{DeploymentState::failed, router.error().message, "failed", router.error().message};
        (void)record_deployment_transition(**store, deployment.id, failed);
        if (options.observe) {
          deployment.state = DeploymentState::failed;
          deployment.outcome = "failed";
          deployment.reason = router.error().message;
          options.observe(deployment, {DeploymentState::failed, router.error().message, now_ms()});
        }
        continue;
      }
      spdlog::error("deployment #{} ({}): {}; retrying in 5 s", deployment.id, to_text(deployment.state),
                    router.error().message);
      std::unique_lock lock(mutex);
      changed.wait_for(lock, std::chrono::seconds(5), [&] { return stopping.load(); });
      continue;
    }
    DeploymentRunContext context{**store, *options.containers, *lane.router, options,
                                 stopping,  lane.interrupt,    lane.superseded};
    DeploymentRun(context, *target, deployment).drive();
    remove_images_no_one_needs(**store, *options.containers);
  }
}

// Queued ones end "superseded" at once; one in progress is told to stop before its switch.
void DeploymentController::Impl::supersede_others(Store& store, DeploymentLane& lane, int64_t newest_id) {
  lane.newest_id = newest_id;
  auto active = list_deployments(store, {lane.application, lane.environment, true, 0, 1000});
  if (!active) return;
  bool in_progress_superseded = false;
  for (const DeploymentRecord& other : *active) {
    if (other.id == newest_id) continue;
    if (other.state == DeploymentState::queued && other.id != active->back().id) {
      std::string why = fmt::format("superseded by #{}", newest_id);
      (void)record_deployment_transition(store, other.id, {DeploymentState::superseded, why, "superseded", why});
    } else if (is_before_switch(other.state)) {
      in_progress_superseded = true;
    }
  }
  if (in_progress_superseded) {
    lane.superseded = true;
    lane.interrupt = true;
  }
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
  supersede_others(store, lane, *id);
  lane.wake = true;
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
    if (candidate.outcome == "succeeded" && candidate.digest != (*live)->digest) {
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
  if (target->container_state == "stopped") {  // retained: started again instead of made anew
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
  for (const auto& [application, environment] : keys) s.lane(application, environment).wake = true;
  s.changed.notify_all();
  return {};
}

void DeploymentController::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.started) return;
    s.started = false;
    s.stopping = true;
    for (auto& [key, lane] : s.lanes) lane->interrupt = true;
  }
  s.changed.notify_all();
  for (auto& [key, lane] : s.lanes) {
    if (lane->thread.joinable()) lane->thread.join();
  }
  std::lock_guard lock(s.mutex);
  s.lanes.clear();
  s.store.reset();
}

bool DeploymentController::wait_idle(const std::string& application, const std::string& environment,
                                     Milliseconds timeout) {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  return s.changed.wait_for(lock, timeout, [&] {
    auto found = s.lanes.find({application, environment});
    return found == s.lanes.end() || (found->second->idle && !found->second->wake);
  });
}

}  // namespace slipway
