// What hello-app answers. Kept apart from the socket code so that the unit tests can check every
// route and status line without a server, and so that a routing change touches one small file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http_request.h"

namespace hello {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // send "Connection: close" and close after writing

  // The value of the first header named `name` (exact case), or "" when absent.
  std::string header(const std::string& name) const;
};

struct AppConfig {
  std::string version = "dev";  // from $APP_VERSION; shown in X-App-Version
};

// GET / -> 200 greeting, GET /health -> 200 "ok", other methods on those paths -> 405,
// anything else -> 404. HEAD is answered like GET without a body.
Response route(const Request& request, const AppConfig& config);

// A response for a request that could not be parsed (400, 431, 501); always closes.
Response error_response(int status);

// The bytes to write: status line, headers (Content-Length always set), blank line, body.
std::string serialize(const Response& response, bool head_only = false);

const char* reason_phrase(int status);

}  // namespace hello
