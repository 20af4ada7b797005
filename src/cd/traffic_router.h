// TrafficRouter: what a deployment asks of the router in front of one application in one
// environment — two backends (production, and the optional test listener's), each with a blue
// and a green slot. HaproxyRouter (cd/haproxy_router.h) is the one that carries traffic; the
// interface lets the deployment controller's unit tests put a router that only remembers in its
// place (tests/support/fake_deployment_world.h), beside the real HAProxy tests.
//
// Every call is idempotent: a restart that repeats one (the same slot pointed at the same port,
// the same slot made ready again) changes nothing.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "cd/haproxy_config.h"
#include "cd/haproxy_runtime.h"

namespace slipway {

class TrafficRouter {
 public:
  virtual ~TrafficRouter() = default;

  // Starts the router, or adopts the one that outlived a restart of Slipway (then changes
  // nothing it routes).
  virtual Status start() = 0;
  // Non-zero when this router's process runs (before start(): one that outlived a restart).
  virtual pid_t pid() const = 0;

  // Points `slot` of `backend` at 127.0.0.1:port; its admin state does not change.
  virtual Status set_slot(std::string_view backend, std::string_view slot, int port) = 0;
  // Makes `slot` ready, then drains the other: the backend never has no slot ready.
  virtual Status switch_to(std::string_view backend, std::string_view slot) = 0;
  virtual Status set_state(std::string_view backend, std::string_view slot, SlotAdminState state) = 0;
  // The sessions still open on `slot`, so a caller can wait for a drain to finish.
  virtual Result<int> open_sessions(std::string_view backend, std::string_view slot) = 0;
};

// The slot that is not `slot`: blue for green, green for blue, "" for anything else.
inline std::string_view other_slot(std::string_view slot) {
  if (slot == kBlueSlot) return kGreenSlot;
  if (slot == kGreenSlot) return kBlueSlot;
  return "";
}

// Makes the router of one application in one environment (DeploymentControllerOptions).
using TrafficRouterFactory = std::function<std::unique_ptr<TrafficRouter>(const HaproxyRouterSettings& settings)>;

}  // namespace slipway
