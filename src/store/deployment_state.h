// DeploymentState: the states of a deployment's state machine (cd/deployment_run.h), typed.
// They become text only at the edges — the deployments tables, the events' payloads and the
// JSON API — through to_text() and deployment_state_from_text(); everywhere else they are
// compared and switched over as this enum.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

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

// How a deployment ended: the final state it ended in (succeeded, rolled_back, failed or
// superseded); nullopt while it is active. Text at the same edges: "" while active.
using DeploymentOutcome = std::optional<DeploymentState>;
std::string_view outcome_text(const DeploymentOutcome& outcome);
// "" reads as active; a text this version does not know, as failed (it ended, not in success).
DeploymentOutcome deployment_outcome_from_text(std::string_view text);

// Where a deployment's container stands, as the deployments table records it: none before it
// is created; running; stopped (retained for a fast rollback); removed; moved (a rollback
// deployment took it over). Text at the same edges ("" for none).
enum class ContainerState { none, running, stopped, removed, moved };
std::string_view to_text(ContainerState state);
// A text this version does not know reads as removed: nothing then counts on the container.
ContainerState container_state_from_text(std::string_view text);

// The states before the switch, which a newer image may still supersede.
bool is_before_switch(DeploymentState state);

std::ostream& operator<<(std::ostream& out, DeploymentState state);  // as to_text: for test messages
// As to_text, so that {"state", record.state} in a JSON answer is the text, never the number.
void to_json(nlohmann::json& json, DeploymentState state);

}  // namespace slipway
