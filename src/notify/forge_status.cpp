#include "notify/forge_status.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace slipway {
namespace {

constexpr size_t kDescriptionLimit = 140;

// GitHub and Gitea know pending, success, failure and error; GitLab pending, running, success,
// failed and canceled.
std::string forge_state(const std::string& provider, const std::string& state) {
  if (provider == "gitlab") {
    if (state == "failure" || state == "error") return "failed";
    if (state == "cancelled") return "canceled";
    return state;
  }
  if (state == "running") return "pending";
  if (state == "cancelled") return "error";
  return state;
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string commit_status_json(const CommitStatus& status) {
  return nlohmann::json{{"sha", status.sha},
                        {"state", status.state},
                        {"context", status.context},
                        {"description", status.description},
                        {"target_url", status.target_url}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<CommitStatus> commit_status_from_json(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return make_error("not a commit status");
  CommitStatus status;
  for (auto [field, key] : {std::pair{&status.sha, "sha"}, {&status.state, "state"}, {&status.context, "context"},
                            {&status.description, "description"}, {&status.target_url, "target_url"}}) {
    auto found = json.find(key);
    if (found == json.end() || !found->is_string()) return make_error(fmt::format("a commit status without '{}'", key));
    *field = found->get<std::string>();
  }
  return status;
}

std::string status_description(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  if (line.size() <= kDescriptionLimit) return line;
  size_t cut = kDescriptionLimit - 3;  // "…" is three bytes
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return line.substr(0, cut) + "…";
}

HttpClientRequest commit_status_request(const StatusEndpoint& endpoint, const CommitStatus& status) {
  HttpClientRequest request;
  request.method = "POST";
  request.timeout = Milliseconds(10'000);
  request.headers.set("Content-Type", "application/json");
  request.headers.set("User-Agent", "slipway");
  std::string api = without_trailing_slash(endpoint.api);
  std::string state = forge_state(endpoint.provider, status.state);
  nlohmann::json body = {{"state", state}, {"description", status.description}};
  if (!status.target_url.empty()) body["target_url"] = status.target_url;
  if (endpoint.provider == "gitlab") {
    request.url = fmt::format("{}/projects/{}/statuses/{}", api, percent_encode(endpoint.project), status.sha);
    request.headers.set("PRIVATE-TOKEN", endpoint.token);
    body["name"] = status.context;
  } else {
    request.url = fmt::format("{}/repos/{}/statuses/{}", api, percent_encode(endpoint.project, true), status.sha);
    body["context"] = status.context;
    if (endpoint.provider == "gitea") {
      request.headers.set("Authorization", "token " + endpoint.token);
    } else {
      request.headers.set("Authorization", "Bearer " + endpoint.token);
      request.headers.set("Accept", "application/vnd.github+json");
      request.headers.set("X-GitHub-Api-Version", "2022-11-28");
    }
  }
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return request;
}

}  // namespace slipway
