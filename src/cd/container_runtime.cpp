#include "cd/container_runtime.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace slipway {

namespace {

std::string container_path(const std::string& container) { return "/containers/" + percent_encode(container); }

nlohmann::json create_body(const ContainerSpec& spec) {
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [name, value] : spec.env) env.push_back(name + "=" + value);
  nlohmann::json host_config = {{"NetworkMode", spec.network_mode}};
  if (spec.memory_bytes > 0) host_config["Memory"] = spec.memory_bytes;
  if (spec.nano_cpus > 0) host_config["NanoCpus"] = spec.nano_cpus;
  if (spec.pids_limit > 0) host_config["PidsLimit"] = spec.pids_limit;
  if (!spec.cap_drop.empty()) host_config["CapDrop"] = spec.cap_drop;
  if (spec.no_new_privileges) host_config["SecurityOpt"] = {"no-new-privileges"};
  if (spec.read_only_root) host_config["ReadonlyRootfs"] = true;
  nlohmann::json body = {{"Image", spec.image},
                         {"Env", env},
                         {"Labels", nlohmann::json(spec.labels)},
                         {"HostConfig", host_config}};
  if (!spec.command.empty()) body["Cmd"] = spec.command;
  if (!spec.user.empty()) body["User"] = spec.user;
  return body;
}

}  // namespace

DockerContainerRuntime::DockerContainerRuntime(std::string socket_path) : api_(std::move(socket_path)) {}

Result<std::string> DockerContainerRuntime::create(const ContainerSpec& spec) {
  std::string what = fmt::format("cannot create the container {} from {}", spec.name, spec.image);
  auto image = ensure_image(spec.image, spec.registry_credentials);
  if (!image) return make_error(what + ": " + image.error().message);
  HttpClientRequest post = api_.request("POST", "/containers/create?name=" + percent_encode(spec.name));
  post.headers.set("Content-Type", "application/json");
  post.body = create_body(spec).dump();
  auto response = api_.send(post);
  // The image can go between the check and the create (an `image prune`, a `docker rmi`): pull
  // it once more rather than fail a deployment over a race.
  if (response && response->status == 404) {
    if (auto pulled = ensure_image(spec.image, spec.registry_credentials); !pulled) {
      return make_error(what + ": " + pulled.error().message);
    }
    response = api_.send(post);
  }
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status != 201) return api_.daemon_error(post, *response, what);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("Id") || !body["Id"].is_string()) {
    return make_error(fmt::format("{}: the Docker Engine answered without an id: {}", what, response->body.substr(0, 200)));
  }
  return body["Id"].get<std::string>();
}

Status DockerContainerRuntime::container_action(const std::string& container, std::string_view action_path,
                                          std::string_view verb, std::vector<long> ok, Milliseconds timeout) {
  HttpClientRequest post = api_.request("POST", container_path(container) + std::string(action_path));
  post.timeout = timeout;
  auto response = api_.send(post);
  std::string what = fmt::format("cannot {} the container {}", verb, container);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status == 204 || std::find(ok.begin(), ok.end(), response->status) != ok.end()) return {};
  return api_.daemon_error(post, *response, what);
}

Status DockerContainerRuntime::start(const std::string& container) {
  return container_action(container, "/start", "start", {304}, Milliseconds(60'000));
}

Status DockerContainerRuntime::stop(const std::string& container, std::chrono::seconds grace) {
  // The Engine answers once the container has stopped: allow the grace period plus the kill.
  Milliseconds timeout = std::chrono::duration_cast<Milliseconds>(grace) + Milliseconds(30'000);
  return container_action(container, fmt::format("/stop?t={}", grace.count()), "stop", {304}, timeout);
}

Status DockerContainerRuntime::kill(const std::string& container, const std::string& signal) {
  HttpClientRequest post = api_.request("POST", container_path(container) + "/kill?signal=" + percent_encode(signal));
  post.timeout = Milliseconds(30'000);
  auto response = api_.send(post);
  std::string what = fmt::format("cannot send {} to the container {}", signal, container);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status == 204) return {};
  // 409 "Container … is not running": what a kill is for has already happened.
  if (response->status == 409 && DockerApi::daemon_message(response->body).find("not running") != std::string::npos) {
    return {};
  }
  return api_.daemon_error(post, *response, what);
}

Status DockerContainerRuntime::remove(const std::string& container, bool force) {
  HttpClientRequest del = api_.request("DELETE", container_path(container) + (force ? "?force=1&v=1" : "?v=1"));
  del.timeout = Milliseconds(60'000);
  auto response = api_.send(del);
  std::string what = fmt::format("cannot remove the container {}", container);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status == 204 || response->status == 404) return {};
  return api_.daemon_error(del, *response, force ? what : what + " (force removes a running one)");
}

}  // namespace slipway
