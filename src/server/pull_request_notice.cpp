#include "server/pull_request_notice.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <initializer_list>

#include "base/object_id.h"
#include "server/push_notice.h"

namespace slipway {
namespace {

using nlohmann::json;
using Action = PullRequestNotice::Action;

constexpr size_t kMaxTextLength = 1024;  // a title or login longer than this is cut, not refused

// The value at a path of keys, or null when any step is missing.
const json* at(const json& root, std::initializer_list<const char*> path) {
  const json* node = &root;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    auto found = node->find(key);
    if (found == node->end()) return nullptr;
    node = &*found;
  }
  return node;
}

std::string path_text(std::initializer_list<const char*> path) {
  std::string text;
  for (const char* key : path) text += (text.empty() ? "" : ".") + std::string(key);
  return text;
}

// Reads required fields, remembering the first one missing or mistyped.
class Fields {
 public:
  explicit Fields(const json& root) : root_(root) {}

  std::string text(std::initializer_list<const char*> path, bool required = true) {
    const json* node = at(root_, path);
    if (node && node->is_string()) return node->get<std::string>().substr(0, kMaxTextLength);
    if (required) fail(path, "a string");
    return "";
  }
  int64_t number(std::initializer_list<const char*> path) {
    const json* node = at(root_, path);
    if (node && node->is_number_integer() && node->get<int64_t>() > 0) return node->get<int64_t>();
    fail(path, "a positive integer");
    return 0;
  }
  // An id that may be a number (GitLab's project ids) or null (GitHub's deleted fork).
  std::string identity(std::initializer_list<const char*> path) {
    const json* node = at(root_, path);
    if (node && node->is_number_integer()) return std::to_string(node->get<int64_t>());
    if (node && node->is_string()) return node->get<std::string>();
    return "";
  }
  const std::string& error() const { return error_; }

 private:
  void fail(std::initializer_list<const char*> path, const char* expected) {
    if (error_.empty()) error_ = fmt::format("the payload's \"{}\" must be {}", path_text(path), expected);
  }
  const json& root_;
  std::string error_;
};

Result<PullRequestNotice> finish(PullRequestNotice notice, const Fields& fields) {
  if (!fields.error().empty()) return make_error(fields.error());
  if (!is_full_object_id(notice.head_sha)) {
    return make_error("the pull request's head commit must be a sha (40 or 64 hex digits)");
  }
  return notice;
}

Result<PullRequestNotice> github_like(Forge forge, const json& body) {
  Fields fields(body);
  PullRequestNotice notice;
  std::string action = fields.text({"action"});
  PullRequestInfo& info = notice.info;
  info.number = fields.number({"number"});
  info.title = fields.text({"pull_request", "title"});
  info.author = fields.text({"pull_request", "user", "login"});
  info.source = fields.text({"pull_request", "head", "ref"});
  info.target = fields.text({"pull_request", "base", "ref"});
  info.url = fields.text({"pull_request", "html_url"}, false);
  notice.head_sha = fields.text({"pull_request", "head", "sha"});
  std::string base = fields.text({"pull_request", "base", "repo", "full_name"});
  // GitHub sends head.repo null when the fork was deleted: no reason to trust it more.
  info.source_repository = fields.text({"pull_request", "head", "repo", "full_name"}, false);
  info.fork = info.source_repository.empty() || info.source_repository != base;
  if (info.source_repository.empty()) info.source_repository = "(deleted fork)";
  bool synchronized = action == "synchronize" || (forge == Forge::gitea && action == "synchronized");
  if (action == "opened" || action == "reopened" || synchronized) notice.action = Action::test;
  else if (action == "closed") notice.action = Action::close;
  else notice.ignored = fmt::format("'{}' pull request events start no run", action);
  if (notice.action != Action::test && fields.error().empty()) return notice;
  return finish(std::move(notice), fields);
}

Result<PullRequestNotice> gitlab(const json& body) {
  Fields fields(body);
  PullRequestNotice notice;
  if (fields.text({"object_kind"}) != "merge_request" && fields.error().empty()) {
    return make_error("the payload's \"object_kind\" must be \"merge_request\" for a Merge Request Hook");
  }
  std::string action = fields.text({"object_attributes", "action"}, false);
  PullRequestInfo& info = notice.info;
  info.number = fields.number({"object_attributes", "iid"});
  info.title = fields.text({"object_attributes", "title"});
  info.author = fields.text({"user", "username"});
  info.source = fields.text({"object_attributes", "source_branch"});
  info.target = fields.text({"object_attributes", "target_branch"});
  info.url = fields.text({"object_attributes", "url"}, false);
  notice.head_sha = fields.text({"object_attributes", "last_commit", "id"});
  info.source_repository = fields.text({"object_attributes", "source", "path_with_namespace"}, false);
  std::string source_project = fields.identity({"object_attributes", "source_project_id"});
  std::string target_project = fields.identity({"object_attributes", "target_project_id"});
  info.fork = source_project.empty() || source_project != target_project;
  bool new_commits = at(body, {"object_attributes", "oldrev"}) != nullptr;
  if (action == "open" || action == "reopen" || (action == "update" && new_commits)) notice.action = Action::test;
  else if (action == "close" || action == "merge") notice.action = Action::close;
  else notice.ignored = fmt::format("'{}' merge request events start no run", action.empty() ? "(no action)" : action);
  if (notice.action != Action::test && fields.error().empty()) return notice;
  return finish(std::move(notice), fields);
}

}  // namespace

Result<PullRequestNotice> parse_pull_request_notice(Forge forge, std::string_view body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return make_error("the body must be a JSON object");
  return forge == Forge::gitlab ? gitlab(parsed) : github_like(forge, parsed);
}

}  // namespace slipway
