// The HTTP vocabulary of `slipway serve`: a parsed request, a response, and a Router that maps
// "METHOD /path/{param}" patterns to handlers. Handlers run on the server's worker threads and
// must be thread-safe. Transport (Boost.Beast), auth and limits live in http_server.h; this
// header has no Boost in it, so every route file and its tests stay light.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace slipway {

enum class Role { anonymous = 0, read_only = 1, deployer = 2, admin = 3 };
std::string_view role_name(Role role);  // "anonymous", "read-only", "deployer", "admin"

struct HttpRequest {
  std::string method;                              // "GET", "POST"...
  std::string path;                                // without the query string, percent-decoded
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> headers;      // names lower-cased
  std::string body;
  std::map<std::string, std::string> params;       // from the route pattern's {name} parts
  Role role = Role::anonymous;                     // set by the server's auth before routing
  std::string token_name;                          // who, when authenticated

  std::string header(std::string_view name) const;  // "" when absent; `name` lower-case
};

// A Server-Sent Events stream, produced in short steps so that no thread waits on it: the server
// calls the producer on one of its pool threads, once the headers are written and again each
// time the events of the previous call have been written — at once after `more`, after a short
// pause (~100 ms) after `idle`; `done` ends the stream. A call must not block (read a file
// range, one store lookup). While a stream is idle the server itself sends a keep-alive comment
// every few seconds, which is how it notices a client that left; the producer is then destroyed.
enum class EventStep { more, idle, done };
using EventSend = std::function<void(std::string_view event, std::string_view data)>;
using EventProducer = std::function<EventStep(const EventSend& send)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  EventProducer events;                            // set: the response is an SSE stream

  static HttpResponse json(int status, const nlohmann::json& body);
  // {"error": message} with the status; message says what to do.
  static HttpResponse error(int status, std::string_view message);
  // The one mapping from an error's kind to its status: not_found 404, conflict 409,
  // invalid_input 400, unauthorized 401, unavailable 503, timeout 504, internal 500.
  static HttpResponse from_error(const Error& error);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

class Router {
 public:
  // `pattern` like "GET /api/v1/runs/{id}/steps"; `minimum` is the least role allowed (anonymous
  // routes are public, e.g. the webhook endpoints that check their own signatures).
  void add(std::string_view method, std::string_view pattern, Role minimum, HttpHandler handler);

  // 404 for an unknown path, 405 for a known path with another method, 401 when the request is
  // anonymous and the route needs a role, 403 when the role is too low.
  HttpResponse dispatch(HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    Role minimum;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace slipway
