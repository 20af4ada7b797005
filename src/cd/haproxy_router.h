// HaproxyRouter: the traffic router of one application in one environment — an HAProxy process
// started from a generated config, and blue/green switched through its runtime API so a switch
// never reloads it. Every method returns an Error naming what failed and HAProxy's own words.
//
// HAProxy runs as a daemon (`-D`, PID in the pidfile of its directory), not as a child: traffic
// must keep flowing while Slipway restarts, and a restarted Slipway adopts the running process
// through the pidfile and socket instead of starting a second one. Stopping is by that PID only,
// after checking /proc that it is the HAProxy of this config (a PID may be reused).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cd/haproxy_config.h"
#include "cd/haproxy_runtime.h"
#include "cd/traffic_router.h"

namespace slipway {

class HaproxyRouter final : public TrafficRouter {
 public:
  explicit HaproxyRouter(HaproxyRouterSettings settings);

  const HaproxyRouterSettings& settings() const { return settings_; }
  const HaproxyRuntime& runtime() const { return runtime_; }

  // Writes haproxy.cfg into the directory and checks it with `haproxy -c`; its complaint (a bad
  // listen address, a port in use is found only at start) is the Error's message.
  Status write_config();

  // write_config(), then starts HAProxy and waits (up to 5 s) for its runtime API to answer.
  // When this config's HAProxy already runs (a Slipway restart), adopts it and changes nothing.
  Status start() override;

  // Stops this config's HAProxy (SIGTERM, SIGKILL after 5 s) and waits until its PID is gone.
  // Nothing to stop is success.
  Status stop();

  // The PID of this config's running HAProxy, or 0.
  pid_t pid() const override;

  // Points `slot` of `backend` at 127.0.0.1:port. Its admin state does not change.
  Status set_slot(std::string_view backend, std::string_view slot, int port) override;

  // Makes `slot` ready, then drains the other slot: the new one is ready first, so the backend
  // never has zero servers ready. A slot drained takes no new requests; open ones finish.
  Status switch_to(std::string_view backend, std::string_view slot) override;

  // Sets one slot's admin state (maint, to take a removed version out altogether).
  Status set_state(std::string_view backend, std::string_view slot, SlotAdminState state) override;

  // The sessions still open on `slot`, so a caller can wait for a drain to finish.
  Result<int> open_sessions(std::string_view backend, std::string_view slot) override;

  Result<std::vector<ServerSlotState>> servers(std::string_view backend);

 private:
  Status wait_for_runtime_api();

  HaproxyRouterSettings settings_;
  HaproxyRuntime runtime_;
};

}  // namespace slipway
