// The JSON API under /api/v1 (docs/api.md): repositories, runs, steps and their logs, reports,
// events, tokens. Each resource's routes live in their own file; add_api_routes registers them
// all. GET routes need the read-only role (none when the configuration sets anonymous_read),
// POST routes the deployer role, token management the admin role.
#pragma once

#include <functional>

#include "ci/run_executor.h"
#include "cd/deployment_controller.h"
#include "cd/task_runner.h"
#include "ci/run_queue.h"
#include "server/http_router.h"
#include "server/store_pool.h"
#include "spec/server_config.h"

namespace slipway {

// What the handlers share; it outlives the HTTP server (server.cpp owns both).
struct ApiContext {
  StorePool& stores;
  RunQueue& queue;
  const ServerConfig& config;
  DataDirectory data;
  // The rest is given at construction, by Server::start once every part runs.
  std::string master_key;   // seals the secret store (store/master_key.h)
  DeploymentController* deployments = nullptr;  // null: no deployments here
  std::function<void()> image_pushed;            // a push was stored: the intake looks now
  TaskRunner* tasks = nullptr;                   // runs data tasks on demand
  RepositoryMirrors* mirrors = nullptr;          // remote repositories
  Role read_role() const { return config.anonymous_read ? Role::anonymous : Role::read_only; }
};

void add_api_routes(Router& router, ApiContext& context);

// One per resource file.
void add_repository_routes(Router& router, ApiContext& context);
void add_run_routes(Router& router, ApiContext& context);
void add_log_routes(Router& router, ApiContext& context);
void add_event_routes(Router& router, ApiContext& context);
void add_token_routes(Router& router, ApiContext& context);
void add_secret_routes(Router& router, ApiContext& context);
void add_registry_routes(Router& router, ApiContext& context);
void add_deployment_routes(Router& router, ApiContext& context);
void add_task_routes(Router& router, ApiContext& context);

}  // namespace slipway
