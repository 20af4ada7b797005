// How `slipway deploy` prints deployments for people: the status and history tables, one
// deployment with its steps as offsets from its start. Colour only when asked (a TTY); the
// --json output is server/deployment_json.h's shape instead.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/deployments.h"

namespace slipway {

// One application in one environment, as GET /api/v1/deployments/current answers.
struct CurrentDeployment {
  std::string application;
  std::string environment;
  std::optional<DeploymentRecord> live;    // serving traffic
  std::optional<DeploymentRecord> active;  // in flight
};

// "v1.2.0 (0123456789ab)", or the short digest alone when there is no tag (a rollback).
std::string version_label(const DeploymentRecord& deployment);
// The outcome when it ended, else the state it is in.
DeploymentState deployment_status(const DeploymentRecord& deployment);

std::string status_table(const std::vector<CurrentDeployment>& current, bool colour);
std::string history_table(const std::vector<DeploymentRecord>& deployments, bool colour);
// "+1.2s  health_checking   green healthy: 3 checks passed": the offset from `started_ms`.
std::string step_line(const DeploymentStepRecord& step, int64_t started_ms, bool colour);
// "Deployment #3 rolled_back: <reason>", in the status's colour: how `--wait` ends.
std::string outcome_line(const DeploymentRecord& deployment, bool colour);
// The deployment's facts, then every step.
std::string deployment_text(const DeploymentRecord& deployment, bool colour);

}  // namespace slipway
