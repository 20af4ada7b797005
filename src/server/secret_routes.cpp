// Secret management, admin only (docs/api.md, docs/secrets.md):
//   GET    /api/v1/secrets[?repository=R&environment=E]      names and times, never values
//   PUT    /api/v1/secrets/{repository}/{environment}/{name}  {"value": "..."}
//   DELETE /api/v1/secrets/{repository}/{environment}/{name}  404 when absent
//   POST   /api/v1/secrets/apply  {"secrets": [{repository, environment, name, value}], "dry_run": bool}
//   GET    /api/v1/server-secrets                            the server's own (webhook keys): names
//   PUT    /api/v1/server-secrets/{name}                     {"value": "..."}
//   DELETE /api/v1/server-secrets/{name}                     404 when absent
// No answer and no message carries a value: bodies are never echoed, errors name secrets only.
#include <set>
#include <tuple>

#include <fmt/core.h>

#include "base/strings.h"
#include "server/api_json.h"
#include "server/api_routes.h"
#include "store/secret_store.h"

namespace slipway {
namespace {

using nlohmann::json;

json entry_json(const SecretEntry& entry) {
  return {{"repository", entry.repository}, {"environment", entry.environment}, {"name", entry.name},
          {"created_ms", entry.created_ms}, {"updated_ms", entry.updated_ms}};
}

// A listing's answer: {"secrets": [entry...]}, values never included.
HttpResponse listing(const Result<std::vector<SecretEntry>>& entries) {
  if (!entries) return server_error(entries.error());
  json listed = json::array();
  for (const auto& entry : *entries) listed.push_back(entry_json(entry));
  return HttpResponse::json(200, {{"secrets", listed}});
}

json address_json(const std::string& repository, const std::string& environment, const std::string& name) {
  return {{"repository", repository}, {"environment", environment}, {"name", name}};
}

std::string string_field(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

HttpResponse put_secret(SecretStore& secrets, const HttpRequest& request) {
  SecretValue secret{request.params.at("repository"), request.params.at("environment"), request.params.at("name"), ""};
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("value") || !body["value"].is_string()) {
    return HttpResponse::error(400, "the body must be {\"value\": \"...\"} (JSON; the value as a string)");
  }
  secret.value = body["value"].get<std::string>();
  if (Status valid = check_secret(secret); !valid) return bad_request(valid.error());
  auto existing = secrets.list(secret.repository, secret.environment);
  if (!existing) return server_error(existing.error());
  bool existed = false;
  for (const auto& entry : *existing) existed = existed || entry.name == secret.name;
  if (Status saved = secrets.set(secret.repository, secret.environment, secret.name, secret.value); !saved) {
    return server_error(saved.error());
  }
  json answer = address_json(secret.repository, secret.environment, secret.name);
  answer["action"] = existed ? "updated" : "added";
  return HttpResponse::json(existed ? 200 : 201, answer);
}

HttpResponse delete_secret(SecretStore& secrets, const HttpRequest& request) {
  const std::string& repository = request.params.at("repository");
  const std::string& environment = request.params.at("environment");
  const std::string& name = request.params.at("name");
  if (Status valid = check_secret_address(repository, environment, name); !valid) return bad_request(valid.error());
  auto removed = secrets.remove(repository, environment, name);
  if (!removed) return server_error(removed.error());
  if (!*removed) return HttpResponse::error(404, fmt::format("no {} (GET /api/v1/secrets lists them)",
                                                             describe_secret(repository, environment, name)));
  json answer = address_json(repository, environment, name);
  answer["deleted"] = true;
  return HttpResponse::json(200, answer);
}

// The server's own secrets: the same answers, under the '@server' scope no job ever sees.
HttpResponse put_server_secret(SecretStore& secrets, const HttpRequest& request) {
  const std::string& name = request.params.at("name");
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("value") || !body["value"].is_string()) {
    return HttpResponse::error(400, "the body must be {\"value\": \"...\"} (JSON; the value as a string)");
  }
  std::string value = body["value"].get<std::string>();
  if (Status valid = check_server_secret(name, value); !valid) return bad_request(valid.error());
  auto existing = secrets.get_server(name);
  if (!existing) return server_error(existing.error());
  if (Status saved = secrets.set_server(name, value); !saved) return server_error(saved.error());
  std::string scope(kServerScope);
  json answer = address_json(scope, scope, name);
  answer["action"] = *existing ? "updated" : "added";
  return HttpResponse::json(*existing ? 200 : 201, answer);
}

HttpResponse delete_server_secret(SecretStore& secrets, const HttpRequest& request) {
  const std::string& name = request.params.at("name");
  if (Status valid = check_secret_name(name); !valid) return bad_request(valid.error());
  auto removed = secrets.remove_server(name);
  if (!removed) return server_error(removed.error());
  std::string scope(kServerScope);
  if (!*removed) return HttpResponse::error(404, fmt::format("no {} (GET /api/v1/server-secrets lists them)",
                                                             describe_secret(scope, scope, name)));
  json answer = address_json(scope, scope, name);
  answer["deleted"] = true;
  return HttpResponse::json(200, answer);
}

// The body's secrets, each checked, or the 400 naming the first bad one by its index.
std::variant<std::vector<SecretValue>, HttpResponse> desired_secrets(const json& body) {
  const char* shape = "the body must be {\"secrets\": [{\"repository\", \"environment\", \"name\", \"value\"}], "
                      "\"dry_run\": false}";
  if (!body.is_object() || !body.contains("secrets") || !body["secrets"].is_array()) return HttpResponse::error(400, shape);
  std::vector<SecretValue> desired;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& item : body["secrets"]) {
    std::string where = fmt::format("secrets[{}]", desired.size());
    if (!item.is_object()) return HttpResponse::error(400, fmt::format("{} must be an object; {}", where, shape));
    SecretValue secret{string_field(item, "repository"), string_field(item, "environment"), string_field(item, "name"),
                       string_field(item, "value")};
    if (Status valid = check_secret(secret); !valid) {
      return HttpResponse::error(400, fmt::format("{}: {}", where, valid.error().message));
    }
    if (!seen.insert({secret.repository, secret.environment, secret.name}).second) {
      return HttpResponse::error(400, fmt::format("{}: {} is listed twice", where,
                                                  describe_secret(secret.repository, secret.environment, secret.name)));
    }
    desired.push_back(std::move(secret));
  }
  return desired;
}

HttpResponse apply_secrets(SecretStore& secrets, const HttpRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  auto desired = desired_secrets(body);
  if (auto* refused = std::get_if<HttpResponse>(&desired)) return std::move(*refused);
  auto dry_run = body.find("dry_run");
  if (dry_run != body.end() && !dry_run->is_boolean()) return HttpResponse::error(400, "dry_run must be true or false");
  bool only_plan = dry_run != body.end() && dry_run->get<bool>();
  auto actions = secrets.apply(std::get<std::vector<SecretValue>>(desired), only_plan);
  if (!actions) return server_error(actions.error());
  json listed = json::array();
  for (const auto& action : *actions) {
    json item = address_json(action.repository, action.environment, action.name);
    item["action"] = action.action;
    listed.push_back(std::move(item));
  }
  return HttpResponse::json(200, {{"dry_run", only_plan}, {"actions", listed}});
}

// Runs `work(SecretStore&)` on a borrowed connection, under the server's master key.
template <typename Work>
HttpResponse with_secrets(ApiContext& context, Work&& work) {
  return with_store(context.stores, [&](Store& store) {
    SecretStore secrets(store, context.master_key);
    return work(secrets);
  });
}

}  // namespace

void add_secret_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/secrets", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) {
      return listing(secrets.list(query_value(request, "repository"), query_value(request, "environment")));
    });
  });
  router.add("PUT", "/api/v1/secrets/{repository}/{environment}/{name}", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) { return put_secret(secrets, request); });
  });
  router.add("DELETE", "/api/v1/secrets/{repository}/{environment}/{name}", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) { return delete_secret(secrets, request); });
  });
  router.add("POST", "/api/v1/secrets/apply", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) { return apply_secrets(secrets, request); });
  });
  router.add("GET", "/api/v1/server-secrets", Role::admin, [&context](HttpRequest&) {
    return with_secrets(context, [&](SecretStore& secrets) { return listing(secrets.list_server()); });
  });
  router.add("PUT", "/api/v1/server-secrets/{name}", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) { return put_server_secret(secrets, request); });
  });
  router.add("DELETE", "/api/v1/server-secrets/{name}", Role::admin, [&context](HttpRequest& request) {
    return with_secrets(context, [&](SecretStore& secrets) { return delete_server_secret(secrets, request); });
  });
}

}  // namespace slipway
