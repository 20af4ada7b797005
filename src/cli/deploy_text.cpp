#include "cli/deploy_text.h"

#include <fmt/core.h>

#include "base/strings.h"
#include "base/time.h"
#include "cli/terminal.h"

namespace slipway {
namespace {

Style deployment_style(DeploymentState state) {
  switch (state) {
    case DeploymentState::succeeded: return Style::green;
    case DeploymentState::failed: return Style::red;
    case DeploymentState::rolled_back:
    case DeploymentState::superseded: return Style::yellow;
    default: return Style::cyan;  // still in flight
  }
}

// Padded before styling: escape codes would count towards the width.
std::string styled_status(DeploymentState state, size_t width, bool colour) {
  return styled(fmt::format("{:<{}}", to_text(state), width), deployment_style(state), colour);
}

std::string when(int64_t ms) { return ms ? format_timestamp(ms).substr(0, 19) : "-"; }

std::string took(const DeploymentRecord& deployment) {
  if (deployment.created_ms == 0) return "-";
  int64_t end = deployment.finished_ms ? deployment.finished_ms : now_ms();
  return format_duration(Milliseconds(end - deployment.created_ms));
}

}  // namespace

std::string version_label(const DeploymentRecord& deployment) {
  std::string digest = short_digest(deployment.digest);
  if (deployment.tag.empty()) return digest.empty() ? "-" : digest;
  return fmt::format("{} ({})", deployment.tag, digest);
}

DeploymentState deployment_status(const DeploymentRecord& deployment) {
  return deployment.outcome.value_or(deployment.state);
}

std::string status_table(const std::vector<CurrentDeployment>& current, bool colour) {
  std::string text = fmt::format("{:<20} {:<14} {:<30} {:>6}  {:<20} {}\n", "APPLICATION", "ENVIRONMENT", "LIVE",
                                 "ID", "SINCE", "IN FLIGHT");
  for (const auto& entry : current) {
    std::string live = entry.live ? version_label(*entry.live) : "(nothing live)";
    std::string id = entry.live ? fmt::format("#{}", entry.live->id) : "";
    std::string since = entry.live ? when(entry.live->finished_ms) : "";
    std::string in_flight = "-";
    if (entry.active) {
      DeploymentState state = entry.active->state;
      in_flight = fmt::format("#{} {} {}", entry.active->id, version_label(*entry.active),
                              styled(to_text(state), deployment_style(state), colour));
    }
    text += fmt::format("{:<20} {:<14} {:<30} {:>6}  {:<20} {}\n", entry.application, entry.environment, live, id,
                        since, in_flight);
  }
  return text;
}

std::string history_table(const std::vector<DeploymentRecord>& deployments, bool colour) {
  std::string text = fmt::format("{:>6}  {:<8} {:<16} {:<12}  {:<16} {:<20} {:>8}  {}\n", "ID", "KIND", "STATUS",
                                 "DIGEST", "TAG", "STARTED", "TOOK", "REASON");
  for (const auto& deployment : deployments) {
    text += fmt::format("{:>6}  {:<8} {} {:<12}  {:<16} {:<20} {:>8}  {}\n", deployment.id, deployment.kind,
                        styled_status(deployment_status(deployment), 16, colour), short_digest(deployment.digest),
                        deployment.tag.empty() ? "-" : deployment.tag, when(deployment.created_ms), took(deployment),
                        deployment.reason);
  }
  return text;
}

std::string step_line(const DeploymentStepRecord& step, int64_t started_ms, bool colour) {
  double offset = started_ms && step.at_ms >= started_ms ? static_cast<double>(step.at_ms - started_ms) / 1000.0 : 0.0;
  return fmt::format("  {:>8}  {} {}\n", fmt::format("+{:.1f}s", offset),
                     styled_status(step.state, 16, colour), step.message);
}

std::string outcome_line(const DeploymentRecord& deployment, bool colour) {
  DeploymentState status = deployment_status(deployment);
  return fmt::format("Deployment #{} {}{}\n", deployment.id, styled(to_text(status), deployment_style(status), colour),
                     deployment.reason.empty() ? "" : ": " + deployment.reason);
}

std::string deployment_text(const DeploymentRecord& deployment, bool colour) {
  DeploymentState status = deployment_status(deployment);
  std::string text = fmt::format("Deployment #{}  {}  ({})\n", deployment.id,
                                 styled(to_text(status), deployment_style(status), colour), deployment.kind);
  text += fmt::format("  application  {} in {}\n", deployment.application, deployment.environment);
  text += fmt::format("  version      {}\n  image        {}\n", version_label(deployment), deployment.image);
  if (deployment.outcome) text += fmt::format("  state        {}\n", to_text(deployment.state));
  if (!deployment.slot.empty() || !deployment.container.empty()) {
    text += fmt::format("  container    {} (slot {}, port {}{})\n", deployment.container.empty() ? "-" : deployment.container,
                        deployment.slot.empty() ? "-" : deployment.slot, deployment.port,
                        deployment.container_state == ContainerState::none ? "" : ", " + std::string(to_text(deployment.container_state)));
  }
  if (deployment.previous_id) text += fmt::format("  previous     #{}\n", deployment.previous_id);
  text += fmt::format("  started      {}\n  took         {}\n", when(deployment.created_ms), took(deployment));
  if (!deployment.reason.empty()) text += fmt::format("  reason       {}\n", deployment.reason);
  text += "\n";
  for (const auto& step : deployment.steps) text += step_line(step, deployment.created_ms, colour);
  return text;
}

}  // namespace slipway
