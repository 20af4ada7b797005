// Token management, admin only: GET /api/v1/tokens, POST /api/v1/tokens {"name", "role"} (the
// token is in the answer, the only time it is shown), DELETE /api/v1/tokens/{id} (404 when absent).
#include <fmt/core.h>

#include "server/api_json.h"
#include "server/api_routes.h"
#include "server/auth.h"
#include "store/api_tokens.h"

namespace slipway {

namespace {

HttpResponse create_token(Store& store, const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("name") || !json["name"].is_string() ||
      !json.contains("role") || !json["role"].is_string()) {
    return HttpResponse::error(400, "the body must be {\"name\": \"NAME\", \"role\": \"admin|deployer|read-only\"}");
  }
  auto role = parse_role(json["role"].get<std::string>());
  if (!role) return HttpResponse::error(400, "role must be admin, deployer or read-only");
  std::string name = json["name"].get<std::string>();
  if (name.empty()) return HttpResponse::error(400, "name must not be empty");
  auto token = issue_api_token(store, name, *role);
  if (!token) return server_error(token.error());
  return HttpResponse::json(201, {{"name", name}, {"role", role_name(*role)}, {"token", *token}});
}

}  // namespace

void add_token_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/tokens", Role::admin, [&context](HttpRequest&) {
    return with_store(context.stores, [&](Store& store) {
      auto tokens = list_api_tokens(store);
      if (!tokens) return server_error(tokens.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& token : *tokens) {
        list.push_back({{"id", token.id}, {"name", token.name}, {"role", token.role},
                        {"created_ms", token.created_ms}, {"last_used_ms", token.last_used_ms}});
      }
      return HttpResponse::json(200, {{"tokens", list}});
    });
  });
  router.add("POST", "/api/v1/tokens", Role::admin, [&context](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) { return create_token(store, request.body); });
  });
  router.add("DELETE", "/api/v1/tokens/{id}", Role::admin, [&context](HttpRequest& request) {
    auto id = integer_parameter(request.params, "id", 0, 1, INT64_MAX);
    if (!id) return bad_request(id.error());
    return with_store(context.stores, [&](Store& store) {
      auto deleted = delete_api_token(store, *id);
      if (!deleted) return server_error(deleted.error());
      if (!*deleted) {
        return HttpResponse::error(404, fmt::format("no API token {} (GET /api/v1/tokens lists them)", *id));
      }
      return HttpResponse::json(200, {{"deleted", *id}});
    });
  });
}

}  // namespace slipway
