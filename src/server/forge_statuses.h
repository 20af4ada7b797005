// Forge commit statuses (a repository's `status:`) as an outbox feeder and delivery kind for
// the OutboxWorker (server/outbox_worker.h), which makes them durable, ordered per repository and
// retried. From run events the feeder makes: "slipway/test" pending when the run is queued and
// pending "running" when it starts; "slipway/publish:ENV" pending "running" when that job starts;
// and at the run's end one row per job that ran, with its outcome and a one-line description. The
// kind posts each row with the forge's token — a server secret, read at each delivery, so a
// rotated token needs no restart.
#pragma once

#include <string>

#include "server/outbox_worker.h"
#include "spec/server_config.h"

namespace slipway {

OutboxFeeder forge_status_feeder(const ServerConfig& config);
OutboxKind forge_status_kind(const ServerConfig& config, std::string master_key);

// True when some repository has `status:`.
bool wants_forge_statuses(const ServerConfig& config);

}  // namespace slipway
