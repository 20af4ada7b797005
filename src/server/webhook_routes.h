// The inbound push routes: how a commit reaching a repository becomes a run.
//
//   POST /api/v1/webhooks/git/{name}        anonymous at the router; authenticated by the
//                                           body's X-Hub-Signature-256 (GitHub-compatible push)
//   POST /api/v1/repositories/{name}/push   deployer token; the post-receive hook's notice
//
// A push is acknowledged only once it is stored: the "push.received" event (and, for a git
// host, its X-GitHub-Delivery id, which makes redeliveries harmless) is written before the run
// is queued, so a crash in between loses nothing the poller will not find again.
#pragma once

#include <functional>
#include <string>

#include "ci/run_queue.h"
#include "server/http_router.h"
#include "server/store_pool.h"
#include "spec/server_config.h"

namespace slipway {

struct WebhookContext {
  const ServerConfig& config;
  RunQueue& queue;
  // A Store is one connection for one thread at a time: each request borrows its own from the
  // pool and gives it back before queuing the run (git may take a while).
  StorePool& stores;
  // A webhook secret is looked up in the secret store as (repository, '*', NAME), under this
  // key; when the store has none, `secret_value` gives it ("" for none): the server process's
  // environment, as before the store existed.
  std::function<std::string(const std::string& secret_name)> secret_value;
  std::string master_key;
};

// The handlers keep a reference to `context`: it must outlive the router.
void add_webhook_routes(Router& router, WebhookContext& context);

}  // namespace slipway
