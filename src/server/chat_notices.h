// Chat notices (each environment's `notify:` channels, URLs held as secrets) as an outbox feeder
// and delivery kind for the OutboxWorker (server/outbox_worker.h), which makes them durable,
// ordered per channel and retried for hours. The feeder reads the event log: every deployment
// step ("deployment.<state>"), a run that failed or a publish that was done ("run.finished"),
// task definitions moved to a new image ("task.revisions"), a schedule that could not start
// its task ("schedule.failed"). A notice goes to each channel of the environment it concerns,
// masked with the secrets its repository has there (base/secret_masker.h, every form) before it
// is stored: chat is outside the server, and a reason may quote what a command printed. The
// channel's URL is read at each delivery (the repository's own secret first, then the
// environment-wide one) and never stored in a row, an error or a log.
#pragma once

#include <string>

#include "notify/chat_message.h"
#include "server/outbox_worker.h"
#include "spec/server_config.h"
#include "store/deployments.h"

namespace slipway {

OutboxFeeder chat_notice_feeder(const ServerConfig& config, std::string master_key);
OutboxKind chat_notice_kind(const ServerConfig& config, std::string master_key);

// True when some environment has `notify:`.
bool wants_chat_notices(const ServerConfig& config);

// The event a schedule leaves when it could not start its task (a notice for its channels).
EventRecord schedule_failed_event(const ScheduleConfig& schedule, const std::string& error);

// The notice for one deployment step: title "hello-app → production: traffic switched (3f2a…)".
ChatNotice deployment_notice(const DeploymentRecord& deployment, const DeploymentStepRecord& step);

}  // namespace slipway
