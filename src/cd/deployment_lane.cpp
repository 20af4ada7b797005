#include "cd/deployment_lane.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/time.h"
#include "cd/deployment_run.h"
#include "cd/haproxy_router.h"
#include "cd/image_retention.h"
#include "store/deployments.h"

namespace slipway {

namespace {

// After a deployment ends, the versions it retired may have left the last use of their images:
// the Engine's disk stays flat (cd/image_retention.h). A failure is logged; it never fails or
// delays a deployment, and the server's retention pass sweeps again.
void remove_images_no_one_needs(Store& store, ContainerRuntime& containers) {
  auto sweep = remove_unused_images(store, containers);
  if (!sweep) return spdlog::warn("image retention: {}", sweep.error().message);
  for (const std::string& problem : sweep->problems) spdlog::warn("image retention: {}", problem);
  for (const std::string& image : sweep->removed) spdlog::info("image retention: removed {}", image);
}

std::unique_ptr<TrafficRouter> make_router(const DeploymentControllerOptions& options,
                                           const HaproxyRouterSettings& settings) {
  if (options.make_router) return options.make_router(settings);
  return std::make_unique<HaproxyRouter>(settings);
}

}  // namespace

DeploymentLane::DeploymentLane(std::string application, std::string environment, LaneServices services)
    : application_(std::move(application)), environment_(std::move(environment)), services_(services) {
  thread_ = std::thread([this] { run(); });
}

DeploymentLane::~DeploymentLane() {
  if (thread_.joinable()) thread_.join();
}

// Queued ones end "superseded" at once; one in progress is told to stop before its switch.
void DeploymentLane::supersede_older(Store& store, int64_t newest_id) {
  newest_id_ = newest_id;
  auto active = list_deployments(store, {application_, environment_, true, 0, 1000});
  if (!active) return spdlog::error("deployments of {}/{}: {}", application_, environment_, active.error().message);
  bool in_progress_superseded = false;
  for (const DeploymentRecord& other : *active) {
    if (other.id == newest_id) continue;
    if (other.state == DeploymentState::queued && other.id != active->back().id) {
      std::string why = fmt::format("superseded by #{}", newest_id);
      Status written = record_deployment_transition(
          store, other.id, {DeploymentState::superseded, why, DeploymentState::superseded, why});
      if (!written) spdlog::error("deployment #{}: {}", other.id, written.error().message);
    } else if (is_before_switch(other.state)) {
      in_progress_superseded = true;
    }
  }
  if (in_progress_superseded) {
    superseded_ = true;
    interrupt_ = true;
  }
}

// The router starts with the lane (or is adopted when it outlived a restart). A router started
// afresh knows no version: the live one is pointed at again before anything else happens.
Status DeploymentLane::prepare_router(Store& store, const ApplicationTarget& target) {
  if (router_) return {};
  if (target.router.listen.empty()) {
    return make_error(fmt::format("environment '{}' has no router in the server's configuration: add "
                                  "`router: {{ listen: 127.0.0.1:PORT }}` under it",
                                  target.environment));
  }
  HaproxyRouterSettings settings{services_.options.routers_directory / (application_ + "-" + environment_),
                                 target.router.listen, target.router.test_listen, application_ + "/" + environment_,
                                 "haproxy"};
  auto router = make_router(services_.options, settings);
  bool adopted = router->pid() != 0;
  if (Status started = router->start(); !started) return started;
  if (!adopted) {
    auto live = live_deployment(store, application_, environment_);
    if (live && *live && (*live)->port != 0) {
      const DeploymentRecord& version = **live;
      (void)services_.options.containers->start(version.container);
      if (Status slot = router->set_slot(kProductionBackend, version.slot, version.port); !slot) return slot;
      if (Status switched = router->switch_to(kProductionBackend, version.slot); !switched) return switched;
      spdlog::info("router of {}/{} started; traffic on #{}", application_, environment_, version.id);
    }
  }
  router_ = std::move(router);
  return {};
}

// A router that did not survive (HAProxy gone with a reboot) is started and pointed at the live
// version when the lane starts, not when the next deployment comes.
void DeploymentLane::resume_router(Store& store) {
  auto live = live_deployment(store, application_, environment_);
  if (!live || !*live) return;
  auto target = services_.options.resolve(application_, environment_);
  Status router = target ? prepare_router(store, *target) : Status(target.error());
  if (!router) spdlog::error("router of {}/{}: {}", application_, environment_, router.error().message);
}

bool DeploymentLane::drive_next(Store& store) {
  auto active = list_deployments(store, {application_, environment_, true, 0, 1000});
  if (!active) spdlog::error("deployments of {}/{}: {}", application_, environment_, active.error().message);
  if (!active || active->empty()) return false;
  DeploymentRecord deployment = active->back();  // the oldest: the one in progress, if any
  {
    std::lock_guard lock(services_.mutex);
    superseded_ = deployment.id < newest_id_;
    interrupt_ = services_.stopping || superseded_;
  }
  // Newer ones may have come in while this waited: the next offer supersedes as usual.
  auto target = services_.options.resolve(application_, environment_);
  Status router = target ? prepare_router(store, *target) : Status(target.error());
  if (!router) {
    if (is_before_switch(deployment.state)) {
      DeploymentTransition failed{DeploymentState::failed, router.error().message, DeploymentState::failed,
                                  router.error().message};
      if (Status written = record_deployment_transition(store, deployment.id, failed); !written) {
        spdlog::error("deployment #{}: {}", deployment.id, written.error().message);
      }
      if (services_.options.observe) {
        deployment.state = DeploymentState::failed;
        deployment.outcome = DeploymentState::failed;
        deployment.reason = router.error().message;
        services_.options.observe(deployment, {DeploymentState::failed, router.error().message, now_ms()});
      }
      return true;
    }
    spdlog::error("deployment #{} ({}): {}; retrying in 5 s", deployment.id, to_text(deployment.state),
                  router.error().message);
    std::unique_lock lock(services_.mutex);
    services_.changed.wait_for(lock, std::chrono::seconds(5), [&] { return services_.stopping.load(); });
    return true;
  }
  DeploymentRunContext context{store,    *services_.options.containers, *router_,   services_.options,
                               services_.stopping, interrupt_,          superseded_};
  DeploymentRun(context, *target, deployment).drive();
  remove_images_no_one_needs(store, *services_.options.containers);
  return true;
}

void DeploymentLane::run() {
  auto store = Store::open(services_.options.database);
  if (!store) {
    spdlog::error("deployments of {}/{}: {}", application_, environment_, store.error().message);
    std::lock_guard lock(services_.mutex);
    idle_ = true;  // nothing will ever run here: wait_idle() must not hang on it
    services_.changed.notify_all();
    return;
  }
  resume_router(**store);
  while (!services_.stopping) {
    if (drive_next(**store)) continue;
    std::unique_lock lock(services_.mutex);
    idle_ = true;
    services_.changed.notify_all();
    services_.changed.wait(lock, [&] { return services_.stopping || wake_; });
    wake_ = false;
    idle_ = false;
  }
}

}  // namespace slipway
