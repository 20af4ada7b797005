#include "cli/api_client.h"

#include <cctype>
#include <cstdlib>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The SSE parser's state: a partial event across writes.
struct EventStream {
  const std::function<bool(std::string_view, std::string_view)>* on_event;
  std::string buffer;
  std::string event, data;
  bool stopped = false;

  // Handles each complete line in `buffer`; an empty line ends an event.
  void consume() {
    size_t newline;
    while (!stopped && (newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!data.empty() || !event.empty()) stopped = !(*on_event)(event.empty() ? "message" : event, data);
        event.clear();
        data.clear();
      } else if (starts_with(line, "event:")) {
        event = std::string(trim(std::string_view(line).substr(6)));
      } else if (starts_with(line, "data:")) {
        std::string_view value = std::string_view(line).substr(5);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (!data.empty()) data += '\n';
        data += value;
      }  // comments (":") and other fields are ignored, as the SSE format says
    }
  }
};

// Why the server could not be reached, and what to check.
Error unreachable(const std::string& server, const Error& transport) {
  std::string why = transport.cause.empty() ? transport.message : transport.cause;
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  return make_error(transport.kind,
                    fmt::format("cannot reach the Slipway server at {}: {} (is `slipway serve` running? set "
                                "SLIPWAY_SERVER)",
                                server, why));
}

}  // namespace

std::string server_from_environment(const std::string& flag) {
  return flag.empty() ? environment("SLIPWAY_SERVER") : flag;
}

ApiClient::ApiClient(std::string server, std::string token)
    : server_(server.empty() ? std::string(kDefaultServer) : std::move(server)),
      token_(token.empty() ? environment("SLIPWAY_TOKEN") : std::move(token)) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  if (server_.find("://") == std::string::npos) server_ = "http://" + server_;
}

HttpClientRequest ApiClient::request_to(const std::string& method, const std::string& path,
                                        std::string_view accept) const {
  HttpClientRequest request;
  request.method = method;
  request.url = server_ + path;
  request.headers.set("Accept", std::string(accept));
  if (!token_.empty()) request.headers.set("Authorization", "Bearer " + token_);
  request.connect_timeout = Milliseconds(5'000);
  return request;
}

Result<ApiClient::Answer> ApiClient::request(const std::string& method, const std::string& path,
                                             const std::string* body) const {
  HttpClientRequest request = request_to(method, path, "application/json");
  request.timeout = Milliseconds(120'000);
  if (body) {
    request.headers.set("Content-Type", "application/json");
    request.body = *body;
  }
  HttpClient client;
  auto answer = client.send(request);
  if (!answer) return unreachable(server_, answer.error());
  return Answer{answer->status, std::move(answer->body)};
}

Result<nlohmann::json> ApiClient::json_answer(const Answer& answer) const {
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status == 401) {
    if (token_.empty()) return make_error(ErrorKind::unauthorized, "the server needs a token (401): set SLIPWAY_TOKEN");
    return make_error(ErrorKind::unauthorized, "the server refused the token (401): set SLIPWAY_TOKEN");
  }
  if (answer.status >= 400) {
    std::string message = body.is_object() && body.contains("error") && body["error"].is_string()
                              ? body["error"].get<std::string>()
                              : fmt::format("HTTP {}", answer.status);
    return make_error(fmt::format("{} ({})", message, answer.status));
  }
  if (body.is_discarded()) {
    return make_error(fmt::format("the server at {} did not answer with JSON: is SLIPWAY_SERVER a Slipway "
                                  "server?", server_));
  }
  return body;
}

Result<nlohmann::json> ApiClient::get(const std::string& path) const {
  auto answer = request("GET", path, nullptr);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::post(const std::string& path, const nlohmann::json& body) const {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto answer = request("POST", path, &text);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::put(const std::string& path, const nlohmann::json& body) const {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto answer = request("PUT", path, &text);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::remove(const std::string& path) const {
  auto answer = request("DELETE", path, nullptr);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Status ApiClient::follow(const std::string& path,
                         const std::function<bool(std::string_view, std::string_view)>& on_event) const {
  EventStream stream{&on_event, {}, {}, {}};
  HttpClientRequest request = request_to("GET", path, "text/event-stream");
  // No overall timeout: a follow lasts as long as the steps do; the server's keep-alive
  // comments keep the stall timeout from ending an idle stream.
  // An error answer's body ({"error": ...}) holds no event: the parser passes over it.
  request.on_body = [&](std::string_view chunk) {
    stream.buffer.append(chunk);
    stream.consume();
    return !stream.stopped;
  };
  HttpClient client;
  auto answer = client.send(request);
  if (stream.stopped) return {};
  if (!answer) return unreachable(server_, answer.error());
  if (answer->status == 401) return make_error(ErrorKind::unauthorized, "the server refused the token (401): set SLIPWAY_TOKEN");
  if (answer->status >= 400) return make_error(fmt::format("the server answered {} to {}", answer->status, path));
  return {};
}

}  // namespace slipway
