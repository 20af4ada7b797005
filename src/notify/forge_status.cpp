#include "notify/forge_status.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/enum_text.h"

namespace slipway {
namespace {

constexpr size_t kDescriptionLimit = 140;

constexpr EnumText<CommitState, 6> kStates = {{{
    {CommitState::pending, "pending"},
    {CommitState::running, "running"},
    {CommitState::success, "success"},
    {CommitState::failure, "failure"},
    {CommitState::error, "error"},
    {CommitState::cancelled, "cancelled"},
}}};

// GitHub and Gitea know pending, success, failure and error; GitLab pending, running, success,
// failed and canceled.
std::string_view forge_state(const std::string& provider, CommitState state) {
  const bool gitlab = provider == "gitlab";
  switch (state) {
    case CommitState::pending: return "pending";
    case CommitState::running: return gitlab ? "running" : "pending";
    case CommitState::success: return "success";
    case CommitState::failure: return gitlab ? "failed" : "failure";
    case CommitState::error: return gitlab ? "failed" : "error";
    case CommitState::cancelled: return gitlab ? "canceled" : "error";
  }
  return "error";
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

std::string_view to_text(CommitState state) { return kStates.text(state); }

std::string commit_status_json(const CommitStatus& status) {
  return nlohmann::json{{"sha", status.sha},
                        {"state", to_text(status.state)},
                        {"context", status.context},
                        {"description", status.description},
                        {"target_url", status.target_url}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<CommitStatus> commit_status_from_json(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return make_error("not a commit status");
  CommitStatus status;
  std::string state;
  for (auto [field, key] : {std::pair{&status.sha, "sha"}, {&state, "state"}, {&status.context, "context"},
                            {&status.description, "description"}, {&status.target_url, "target_url"}}) {
    auto found = json.find(key);
    if (found == json.end() || !found->is_string()) return make_error(fmt::format("a commit status without '{}'", key));
    *field = found->get<std::string>();
  }
  auto known = kStates.parse(state);
  if (!known) return make_error("a commit status in an unknown state");
  status.state = *known;
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
  nlohmann::json body = {{"state", forge_state(endpoint.provider, status.state)}, {"description", status.description}};
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
