#include "base/docker_api.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace slipway {

namespace {

// Debian 12's docker.io is Engine 20.10: its API is v1.41, and asking for it by URL keeps the
// answers' shape fixed whatever newer Engine a machine may have.
constexpr std::string_view kApiBase = "http://localhost/v1.41";

}  // namespace

DockerApi::DockerApi(std::string socket_path) : socket_path_(std::move(socket_path)) {}

HttpClientRequest DockerApi::request(std::string method, std::string_view path_and_query) const {
  HttpClientRequest request;
  request.method = std::move(method);
  request.url = std::string(kApiBase) + std::string(path_and_query);
  request.unix_socket = socket_path_;
  return request;
}

Result<HttpClientResponse> DockerApi::send(const HttpClientRequest& request) const {
  HttpClient client;
  auto response = client.send(request);
  if (!response) {
    return make_error(fmt::format("no Docker Engine answers at {}: {}; start it with `dockerd --bridge=none "
                                  "--iptables=false`",
                                  socket_path_, response.error().message));
  }
  return response;
}

std::string DockerApi::daemon_message(std::string_view body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    return json["message"].get<std::string>();
  }
  return std::string(trim(body.substr(0, 500)));
}

Error DockerApi::daemon_error(const HttpClientRequest& request, const HttpClientResponse& response,
                              std::string_view what) const {
  std::string_view path = request.url;
  if (starts_with(path, kApiBase)) path.remove_prefix(kApiBase.size());
  return make_error(fmt::format("{}: the Docker Engine at {} answered {} {} with {}: {}", what, socket_path_,
                                request.method, path, response.status, daemon_message(response.body)));
}

}  // namespace slipway
