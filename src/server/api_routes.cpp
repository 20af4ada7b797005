#include "server/api_routes.h"

namespace slipway {

void add_api_routes(Router& router, ApiContext& context) {
  add_repository_routes(router, context);
  add_run_routes(router, context);
  add_log_routes(router, context);
  add_event_routes(router, context);
  add_token_routes(router, context);
  add_secret_routes(router, context);
  add_registry_routes(router, context);
  add_deployment_routes(router, context);
  add_task_routes(router, context);
}

}  // namespace slipway
