// CommitStatus: a job's state on a commit, as forges show it beside a commit and a pull request
// ("slipway/test — 41 passed"), and the one HTTP request that sets it on each forge's documented
// API: GitHub `POST /repos/{owner}/{repo}/statuses/{sha}`, Gitea/Forgejo
// `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` (the api URL holds the /api/v1), GitLab
// `POST /api/v4/projects/{id}/statuses/{sha}` (likewise /api/v4). Slipway's states map onto each
// forge's vocabulary here and nowhere else.
#pragma once

#include <string>
#include <string_view>

#include "base/http_client.h"
#include "base/result.h"

namespace slipway {

// Slipway's word for a job's state on a commit; each forge's own word is chosen from it when the
// request is made (commit_status_request), and the outbox's JSON carries to_text().
enum class CommitState { pending, running, success, failure, error, cancelled };
std::string_view to_text(CommitState state);

struct CommitStatus {
  std::string sha;
  CommitState state = CommitState::pending;
  std::string context;      // "slipway/test", "slipway/publish:staging"
  std::string description;  // one line, at most 140 characters (GitHub's limit)
  std::string target_url;   // the run's page; "" = none
};

struct StatusEndpoint {
  std::string provider;     // github | gitea | gitlab
  std::string api;          // "https://api.github.com", "https://gitea.example/api/v1", ".../api/v4"
  std::string project;      // "owner/name", or GitLab's numeric id
  std::string token;
};

std::string commit_status_json(const CommitStatus& status);
// Error when the text is not what commit_status_json wrote (a row from a newer version).
Result<CommitStatus> commit_status_from_json(const std::string& text);

// `description` cut to one line of at most 140 characters, ending in "…" when cut.
std::string status_description(std::string_view text);

HttpClientRequest commit_status_request(const StatusEndpoint& endpoint, const CommitStatus& status);

}  // namespace slipway
