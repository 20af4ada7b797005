// Deployments (docs/api.md, "Deployments"):
//   GET  /api/v1/deployments[?application=&environment=&active=1&before=&limit=]  newest first
//   GET  /api/v1/deployments/current   per application and environment: the live and the active one
//   GET  /api/v1/deployments/{id}      with its steps
//   POST /api/v1/deployments/rollback  {"application", "environment", "reason"?}  (deployer)
// Reading needs only the store; rollback needs the server's DeploymentController.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <fmt/core.h>

#include "server/api_json.h"
#include "server/api_routes.h"
#include "server/deployment_json.h"
#include "store/deployments.h"

namespace slipway {
namespace {

using nlohmann::json;

constexpr int64_t kMaxDeploymentsPerPage = 1000;
// /current derives its pairs from the history; this bounds that scan (see docs/api.md).
constexpr int kCurrentScanLimit = 100'000;

Result<DeploymentFilter> parse_deployment_filter(const HttpRequest& request) {
  DeploymentFilter filter;
  auto page = page_request(request, kMaxDeploymentsPerPage);
  if (!page) return page.error();
  filter.limit = page->limit;
  filter.before_id = page->before_id;
  filter.application = query_value(request, "application");
  filter.environment = query_value(request, "environment");
  std::string active = query_value(request, "active");
  if (active == "1" || active == "true") {
    filter.active_only = true;
  } else if (!active.empty() && active != "0" && active != "false") {
    return make_error(fmt::format("'active' must be 1 or 0, not '{}'", active));
  }
  return filter;
}

HttpResponse list_deployments_route(Store& store, const HttpRequest& request) {
  auto filter = parse_deployment_filter(request);
  if (!filter) return bad_request(filter.error());
  auto deployments = list_deployments(store, *filter);
  if (!deployments) return server_error(deployments.error());
  json list = json::array();
  for (const auto& deployment : *deployments) list.push_back(deployment_json(deployment));
  return HttpResponse::json(200, {{"deployments", list}, {"next_before", next_before(*deployments, filter->limit)}});
}

// Every application/environment pair with a deployment, in name order: the live version (the
// store's live_deployment) and the one in flight. Two can be unfinished at once (a newer image
// queued behind a switch, which is never interrupted); the older one is what is happening now.
HttpResponse current_deployments(Store& store) {
  DeploymentFilter everything;
  everything.limit = kCurrentScanLimit;
  auto deployments = list_deployments(store, everything);
  if (!deployments) return server_error(deployments.error());
  std::map<std::pair<std::string, std::string>, json> active;  // newest first: the last one wins
  for (const auto& deployment : *deployments) {
    json& slot = active[{deployment.application, deployment.environment}];
    if (!deployment.outcome) slot = deployment_json(deployment);
  }
  json current = json::array();
  for (auto& [pair, in_flight] : active) {
    auto live = live_deployment(store, pair.first, pair.second);
    if (!live) return server_error(live.error());
    current.push_back({{"application", pair.first},
                       {"environment", pair.second},
                       {"deployment", *live ? deployment_json(**live) : json(nullptr)},
                       {"active", in_flight}});
  }
  return HttpResponse::json(200, {{"current", current}});
}

HttpResponse deployment_detail(Store& store, const HttpRequest& request) {
  auto found =
      record_from_path<DeploymentRecord>(store, request, find_deployment, "deployment", "GET /api/v1/deployments");
  if (auto* refused = std::get_if<HttpResponse>(&found)) return std::move(*refused);
  return HttpResponse::json(200, deployment_json(std::get<DeploymentRecord>(found), true));
}

struct RollbackRequest {
  std::string application;
  std::string environment;
  std::string reason = "requested";
};

// The body, checked field by field, or the 400 that says what is wrong with it.
std::variant<RollbackRequest, HttpResponse> parse_rollback(const std::string& body) {
  const char* shape = R"(the body must be {"application": "...", "environment": "...", "reason": "..."} (reason optional))";
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return HttpResponse::error(400, fmt::format("not JSON: {}", shape));
  static const std::set<std::string> known = {"application", "environment", "reason"};
  for (const auto& [key, value] : parsed.items()) {
    if (!known.contains(key)) return HttpResponse::error(400, fmt::format("unknown field '{}': {}", key, shape));
    if (!value.is_string()) return HttpResponse::error(400, fmt::format("'{}' must be a string: {}", key, shape));
  }
  RollbackRequest request;
  for (auto [key, field] : {std::pair{"application", &request.application}, {"environment", &request.environment}}) {
    if (!parsed.contains(key) || parsed[key].get<std::string>().empty()) {
      return HttpResponse::error(400, fmt::format("'{}' is missing: {}", key, shape));
    }
    *field = parsed[key].get<std::string>();
  }
  if (parsed.contains("reason") && !parsed["reason"].get<std::string>().empty()) {
    request.reason = parsed["reason"].get<std::string>();
  }
  return request;
}

HttpResponse rollback_route(ApiContext& context, const HttpRequest& request) {
  auto parsed = parse_rollback(request.body);
  if (auto* refused = std::get_if<HttpResponse>(&parsed)) return std::move(*refused);
  const auto& rollback = std::get<RollbackRequest>(parsed);
  if (context.deployments == nullptr) return HttpResponse::error(503, "deployments are not enabled on this server");
  bool known = std::any_of(context.config.repositories.begin(), context.config.repositories.end(),
                           [&](const RepositoryConfig& repository) { return repository.name == rollback.application; });
  if (!known) {
    return HttpResponse::error(404, fmt::format("no application named '{}' (GET /api/v1/repositories lists them)",
                                                rollback.application));
  }
  auto id = context.deployments->rollback(rollback.application, rollback.environment, rollback.reason);
  if (!id) return HttpResponse::from_error(id.error());
  return HttpResponse::json(202, {{"deployment", *id}});
}

}  // namespace

void add_deployment_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/deployments", context.read_role(), [&context](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) { return list_deployments_route(store, request); });
  });
  // Before {id}: the first matching pattern wins.
  router.add("GET", "/api/v1/deployments/current", context.read_role(), [&context](HttpRequest&) {
    return with_store(context.stores, [&](Store& store) { return current_deployments(store); });
  });
  router.add("POST", "/api/v1/deployments/rollback", Role::deployer,
             [&context](HttpRequest& request) { return rollback_route(context, request); });
  router.add("GET", "/api/v1/deployments/{id}", context.read_role(), [&context](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) { return deployment_detail(store, request); });
  });
}

}  // namespace slipway
