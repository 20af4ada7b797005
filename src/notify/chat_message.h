// ChatNotice: one thing worth telling a team (a deployment step, a run failed, a publish done),
// and its two wire forms: a Slack-compatible incoming-webhook payload with blocks, and a generic
// JSON webhook payload for anything else. Pure functions; nothing is sent here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace slipway {

struct ChatNotice {
  std::string event;        // "deployment.started", "deployment.rolled_back", "run.failed", "publish.done"
  std::string severity = "info";  // "info" | "success" | "failure": the colour/emoji a reader sees first
  std::string title;        // one line: "hello-app → production: traffic switched to 3f2a1c9e0b4d"
  std::string text;         // a sentence or two more: the reason of a rollback, a failed step
  std::string repository;   // the application or repository, "" when none
  std::string environment;  // "" when none
  int64_t deployment_id = 0;  // 0: not about a deployment
  int64_t run_id = 0;         // 0: not about a run
  std::vector<std::pair<std::string, std::string>> fields;  // shown as "name: value" (image, digest, took)
  std::string link;         // a UI address to look at, "" when none
  int64_t at_ms = 0;        // when it happened
};

// {"text": <title — fallback for clients without blocks>, "blocks": [header/section/fields/context]}
// as Slack's incoming webhooks take it. Text is escaped for Slack's mrkdwn (&, <, >).
std::string slack_payload(const ChatNotice& notice);

// {"event", "severity", "title", "text", "repository", "environment", "deployment_id", "run_id",
//  "fields": {name: value}, "link", "at": RFC 3339 UTC} — stable field names for scripts.
std::string webhook_payload(const ChatNotice& notice);

}  // namespace slipway
