#include "server/http_router.h"

#include <set>

#include "base/strings.h"

namespace slipway {

namespace {

// "/api/v1/runs/7" → {"api", "v1", "runs", "7"}; empty segments (from "//" or a trailing "/")
// are dropped so "/api/v1/runs/" finds the same route as "/api/v1/runs".
std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> segments;
  for (auto& part : split(path, '/')) {
    if (!part.empty()) segments.push_back(std::move(part));
  }
  return segments;
}

bool is_capture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Fills `params` when the pattern's segments match the path's.
bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                    std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_capture(pattern[i])) {
      captured[pattern[i].substr(1, pattern[i].size() - 2)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::anonymous: return "anonymous";
    case Role::read_only: return "read-only";
    case Role::deployer: return "deployer";
    case Role::admin: return "admin";
  }
  return "anonymous";
}

std::string HttpRequest::header(std::string_view name) const {
  auto found = headers.find(std::string(name));
  return found == headers.end() ? std::string() : found->second;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  // Replace, never throw, on invalid UTF-8 that slipped into a stored text.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  return json(status, {{"error", std::string(message)}});
}

HttpResponse HttpResponse::from_error(const Error& error) {
  switch (error.kind) {
    case ErrorKind::not_found: return HttpResponse::error(404, error.message);
    case ErrorKind::conflict: return HttpResponse::error(409, error.message);
    case ErrorKind::invalid_input: return HttpResponse::error(400, error.message);
    case ErrorKind::unauthorized: return HttpResponse::error(401, error.message);
    case ErrorKind::unavailable: return HttpResponse::error(503, error.message);
    case ErrorKind::timeout: return HttpResponse::error(504, error.message);
    case ErrorKind::internal: break;
  }
  return HttpResponse::error(500, error.message);
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

void Router::add(std::string_view method, std::string_view pattern, Role minimum, HttpHandler handler) {
  routes_.push_back(Route{std::string(method), path_segments(pattern), minimum, std::move(handler)});
}

HttpResponse Router::dispatch(HttpRequest& request) const {
  std::vector<std::string> path = path_segments(request.path);
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match_segments(route.segments, path, params)) continue;
    if (route.method != request.method) {
      allowed.insert(route.method);
      continue;
    }
    if (request.role < route.minimum) {
      if (request.role == Role::anonymous) {
        return HttpResponse::error(401, "this route needs a token: send `Authorization: Bearer TOKEN` "
                                        "(create one with `slipway token create NAME --role ROLE`)");
      }
      return HttpResponse::error(403, "the token '" + request.token_name + "' has the role " +
                                          std::string(role_name(request.role)) + "; this route needs " +
                                          std::string(role_name(route.minimum)) + " or higher");
    }
    request.params = std::move(params);
    return route.handler(request);
  }
  if (!allowed.empty()) {
    HttpResponse response = HttpResponse::error(
        405, request.method + " is not allowed on " + request.path + " (allowed: " +
                 join(std::vector<std::string>(allowed.begin(), allowed.end()), ", ") + ")");
    response.headers["Allow"] = join(std::vector<std::string>(allowed.begin(), allowed.end()), ", ");
    return response;
  }
  return HttpResponse::error(404, "no such route: " + request.method + " " + request.path +
                                      " (see docs/api.md for the routes)");
}

}  // namespace slipway
