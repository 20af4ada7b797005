// ContainerRuntime's reads: inspect, list by label, wait, logs.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cd/container_runtime.h"

namespace slipway {

namespace {

std::string container_path(const std::string& container) { return "/containers/" + percent_encode(container); }

std::string string_at(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
}

std::map<std::string, std::string> labels_of(const nlohmann::json& value) {
  std::map<std::string, std::string> labels;
  if (!value.is_object()) return labels;
  for (const auto& [key, item] : value.items()) {
    if (item.is_string()) labels[key] = item.get<std::string>();
  }
  return labels;
}

std::string without_slash(std::string name) { return starts_with(name, "/") ? name.substr(1) : name; }

ContainerDetails details_of(const nlohmann::json& body) {
  ContainerDetails details;
  details.id = string_at(body, "Id");
  details.name = without_slash(string_at(body, "Name"));
  const nlohmann::json& state = body.contains("State") ? body["State"] : nlohmann::json();
  details.state = string_at(state, "Status");
  details.started_at = string_at(state, "StartedAt");
  if (state.is_object() && state.contains("ExitCode") && state["ExitCode"].is_number()) {
    details.exit_code = state["ExitCode"].get<int>();
  }
  if (state.is_object() && state.contains("Pid") && state["Pid"].is_number()) details.pid = state["Pid"].get<int>();
  if (state.is_object() && state.contains("OOMKilled") && state["OOMKilled"].is_boolean()) {
    details.oom_killed = state["OOMKilled"].get<bool>();
  }
  if (state.is_object() && state.contains("Health")) {
    std::string health = string_at(state["Health"], "Status");
    if (!health.empty()) details.health = health;
  }
  if (body.contains("Config") && body["Config"].is_object()) details.labels = labels_of(body["Config"]["Labels"]);
  const nlohmann::json& host = body.contains("HostConfig") ? body["HostConfig"] : nlohmann::json();
  if (host.is_object() && host.contains("Memory") && host["Memory"].is_number()) {
    details.memory_bytes = host["Memory"].get<int64_t>();
  }
  return details;
}

}  // namespace

Result<std::optional<ContainerDetails>> DockerContainerRuntime::inspect(const std::string& container) {
  HttpClientRequest get = api_.request("GET", container_path(container) + "/json");
  get.timeout = Milliseconds(30'000);
  auto response = api_.send(get);
  std::string what = fmt::format("cannot inspect the container {}", container);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status == 404) return std::optional<ContainerDetails>();
  if (response->status != 200) return api_.daemon_error(get, *response, what);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || string_at(body, "Id").empty()) {
    return make_error(fmt::format("{}: the Docker Engine described it without an id", what));
  }
  return std::optional<ContainerDetails>(details_of(body));
}

Result<std::vector<ContainerSummary>> DockerContainerRuntime::list(const std::map<std::string, std::string>& labels) {
  nlohmann::json filters = {{"label", nlohmann::json::array()}};
  for (const auto& [key, value] : labels) filters["label"].push_back(value.empty() ? key : key + "=" + value);
  HttpClientRequest get = api_.request("GET", "/containers/json?all=1&filters=" + percent_encode(filters.dump()));
  get.timeout = Milliseconds(30'000);
  auto response = api_.send(get);
  std::string what = fmt::format("cannot list the containers labelled {}", filters["label"].dump());
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status != 200) return api_.daemon_error(get, *response, what);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_array()) return make_error(what + ": the Docker Engine's answer is not a list");
  std::vector<ContainerSummary> containers;
  for (const auto& item : body) {
    ContainerSummary summary;
    summary.id = string_at(item, "Id");
    if (item.contains("Names") && item["Names"].is_array() && !item["Names"].empty() && item["Names"][0].is_string()) {
      summary.name = without_slash(item["Names"][0].get<std::string>());
    }
    summary.state = string_at(item, "State");
    if (item.contains("Labels")) summary.labels = labels_of(item["Labels"]);
    containers.push_back(std::move(summary));
  }
  return containers;
}

Result<int> DockerContainerRuntime::wait(const std::string& container, Milliseconds timeout) {
  HttpClientRequest post = api_.request("POST", container_path(container) + "/wait");
  post.timeout = timeout;
  post.stall_timeout = Milliseconds(0);  // the Engine says nothing until the container stops
  auto response = api_.send(post);
  std::string what = fmt::format("cannot wait for the container {}", container);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status != 200) return api_.daemon_error(post, *response, what);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("StatusCode") || !body["StatusCode"].is_number()) {
    return make_error(fmt::format("{}: the Docker Engine answered without an exit code: {}", what,
                                  response->body.substr(0, 200)));
  }
  std::string error = body.contains("Error") ? string_at(body["Error"], "Message") : "";
  if (!error.empty()) return make_error(fmt::format("{}: the Docker Engine said: {}", what, error));
  return body["StatusCode"].get<int>();
}

Status DockerContainerRuntime::logs(const std::string& container, bool follow, const LogHandler& on_line) {
  HttpClientRequest get = api_.request(
      "GET", container_path(container) + "/logs?stdout=1&stderr=1&follow=" + (follow ? "1" : "0"));
  get.stall_timeout = Milliseconds(0);  // a quiet container may print nothing for hours
  bool stopped = false;
  DockerStreamDemuxer demuxer([&](LogStream stream, std::string_view line) {
    if (!stopped && !on_line(stream, line)) stopped = true;
  });
  // The status is known only at the end, but an error answer is JSON ('{') where frames start
  // with a stream type byte (0-2): the first byte tells which it is.
  std::string error_body;
  bool json_answer = false;
  bool first = true;
  get.on_body = [&](std::string_view chunk) {
    if (first && !chunk.empty()) json_answer = chunk[0] == '{';
    first = false;
    if (json_answer) {
      if (error_body.size() < 4096) error_body.append(chunk.substr(0, 4096 - error_body.size()));
    } else {
      demuxer.feed(chunk);
    }
    return !stopped;
  };
  auto response = api_.send(get);
  std::string what = fmt::format("cannot read the logs of the container {}", container);
  if (stopped) return {};
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status != 200) {
    HttpClientResponse answer = *response;
    answer.body = error_body;
    return api_.daemon_error(get, answer, what);
  }
  demuxer.finish();
  return {};
}

}  // namespace slipway
