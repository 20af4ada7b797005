// The inbound push routes: how a commit reaching a repository becomes a run.
//
//   POST /api/v1/webhooks/git/{name}        anonymous at the router; authenticated by the
//                                           forge's proof of the webhook secret: GitHub's
//                                           X-Hub-Signature-256, Gitea's X-Gitea-Signature,
//                                           GitLab's X-Gitlab-Token. Push events, and pull
//                                           (merge) requests: opened/updated → a Test-only run
//                                           of the head, closed → its runs cancelled
//   POST /api/v1/repositories/{name}/push   deployer token; the post-receive hook's notice
//
// Replays start nothing: a delivery must carry its id (X-GitHub-Delivery, X-Gitea-Delivery;
// 400 otherwise), and a push whose commit is not the branch's head in the repository any more
// is answered 202 {"ignored": "stale push: ..."} (for a remote repository, the run is cancelled
// as stale once its fetch shows it). The webhook's HMAC key is a server secret, never a job's.
// The anonymous route's 404 names no repository.
//
// A push is acknowledged only once it is stored: the "push.received" event (and, for a git
// host, its X-GitHub-Delivery id, which makes redeliveries harmless) is written before the run
// is queued, so a crash in between loses nothing the poller will not find again.
#pragma once

#include <string>

#include "ci/repository_mirrors.h"
#include "ci/run_queue.h"
#include "server/delivery_gate.h"
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
  // Opens the webhook secrets: server secrets (store/secret_store.h), read at every request.
  std::string master_key;
  RepositoryMirrors* mirrors = nullptr;  // remote repositories: their pushes are checked after the fetch
  DeliveryGate deliveries;               // copies of one delivery, one after another
};

// The handlers keep a reference to `context`: it must outlive the router.
void add_webhook_routes(Router& router, WebhookContext& context);

}  // namespace slipway
