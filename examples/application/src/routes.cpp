#include "routes.h"

namespace hello {
namespace {

Response text(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

bool is_read(const Request& request) {
  return request.method == "GET" || request.method == "HEAD";
}

Response method_not_allowed() {
  Response response = text(405, "method not allowed\n");
  response.headers.emplace_back("Allow", "GET, HEAD");
  return response;
}

}  // namespace

std::string Response::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

Response route(const Request& request, const AppConfig& config) {
  if (request.path == "/health") {
    // The deployer polls this; it must stay cheap and must not depend on anything external.
    return is_read(request) ? text(200, "ok\n") : method_not_allowed();
  }
  if (request.path == "/") {
    if (!is_read(request)) return method_not_allowed();
    Response response = text(200, "Hello from Slipway! version " + config.version + "\n");
    response.headers.emplace_back("X-App-Version", config.version);
    return response;
  }
  return text(404, "not found\n");
}

Response error_response(int status) {
  Response response = text(status, std::string(reason_phrase(status)) + "\n");
  response.close = true;
  return response;
}

std::string serialize(const Response& response, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    reason_phrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace hello
