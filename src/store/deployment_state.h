// DeploymentState: the states of a deployment's state machine (cd/deployment_run.h), typed.
// They become text only at the edges — the deployments tables, the events' payloads and the
// JSON API — through to_text() and deployment_state_from_text(); everywhere else they are
// compared and switched over as this enum.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway {

enum class DeploymentState {
  queued,           // recorded, waiting for its lane
  starting,         // the new version's container is being started
  health_checking,  // waiting for N consecutive healthy checks
  verifying,        // deploy.verify runs against the test listener
  switching,        // the router moves traffic to the new slot
  baking,           // traffic on the new version; still watched
  draining,         // the old version's connections are let finish
  retiring,         // the old version is stopped (and retained) or removed
  rolling_back,     // traffic and containers go back to the old version
  succeeded,        // final
  rolled_back,      // final
  failed,           // final
  superseded,       // final: a newer image came before the switch
};

// "health_checking", "rolled_back"...: the text the store, events and API carry.
std::string_view to_text(DeploymentState state);
// nullopt for a text that names no state (a row written by a newer version, say).
std::optional<DeploymentState> deployment_state_from_text(std::string_view text);

// The states before the switch, which a newer image may still supersede.
bool is_before_switch(DeploymentState state);

}  // namespace slipway
