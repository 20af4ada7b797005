// GET /api/v1/repositories, GET /api/v1/repositories/{name}, POST .../{name}/trigger.
#include <fmt/core.h>

#include "base/strings.h"
#include "ci/repository_mirrors.h"
#include "ci/run_queue_git.h"
#include "server/api_json.h"
#include "server/status_badge.h"
#include "server/api_routes.h"

namespace slipway {

namespace {

constexpr int kRepositoryHistory = 20;

// The server's environments, for the UI's manual-run form and scripts: which publish on main.
nlohmann::json environments_json(const ServerConfig& config) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& environment : config.environments) {
    list.push_back({{"name", environment.name}, {"publish", environment.on_main ? "on-main" : "manual"}});
  }
  return list;
}

Result<nlohmann::json> repository_json(Store& store, const ServerConfig& config, const RepositoryConfig& repository,
                                       int runs) {
  auto latest = store.list_runs(RunFilter{.repository = repository.name, .limit = runs});
  if (!latest) return latest.error();
  nlohmann::json answer = {{"name", repository.name},
                           {"url", repository.url},
                           {"main_branch", repository.main_branch},
                           {"environments", environments_json(config)},
                           {"last_run", latest->empty() ? nlohmann::json(nullptr) : run_json(latest->front())}};
  if (runs > 1) {
    answer["runs"] = nlohmann::json::array();
    for (const auto& run : *latest) answer["runs"].push_back(run_json(run));
  }
  return answer;
}

HttpResponse unknown_repository(const ServerConfig& config, const std::string& name) {
  std::string known;
  for (const auto& repository : config.repositories) known += (known.empty() ? "" : ", ") + repository.name;
  return HttpResponse::error(404, fmt::format("no repository named '{}' in the server's configuration (known: {})",
                                              name, known.empty() ? "none" : known));
}

// {"commit"?, "branch"?, "environment"?} → a TriggerRequest; an Error for anything else.
Result<TriggerRequest> parse_trigger_body(const std::string& repository, const std::string& body) {
  TriggerRequest request;
  request.repository = repository;
  request.trigger = "manual";
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return request;
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error("the body must be a JSON object like {\"commit\": \"SHA\", \"branch\": \"main\", "
                      "\"environment\": \"development\"}");
  }
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) return make_error(fmt::format("'{}' must be a string", key));
    if (key == "commit") request.commit = value.get<std::string>();
    else if (key == "branch") request.branch = value.get<std::string>();
    else if (key == "environment") request.environments = {value.get<std::string>()};
    else return make_error(fmt::format("unknown field '{}' (expected commit, branch, environment)", key));
  }
  return request;
}

// The branch's last finished run, pull requests' aside (their branch is their source's).
Result<BadgeState> badge_state(Store& store, const std::string& repository, const std::string& branch) {
  auto runs = store.list_runs(RunFilter{.repository = repository, .limit = 50, .branch = branch});
  if (!runs) return runs.error();
  for (const RunRecord& run : *runs) {
    if (run.pull_request.number > 0) continue;
    if (run.status == RunStatus::passed) return BadgeState::passing;
    if (run.status == RunStatus::failed) return BadgeState::failing;
  }
  return BadgeState::unknown;
}

HttpResponse badge(ApiContext& context, HttpRequest& request) {
  std::string file = request.params["file"];
  const RepositoryConfig* repository =
      file.ends_with(".svg") ? context.config.find_repository(file.substr(0, file.size() - 4)) : nullptr;
  // Readable without a token: the 404 names no repository.
  if (!repository) return HttpResponse::error(404, "no such badge: the path is /badge/REPOSITORY.svg?branch=BRANCH");
  auto branch = request.query.find("branch");
  std::string name = branch == request.query.end() ? repository->main_branch : branch->second;
  return with_store(context.stores, [&](Store& store) {
    auto state = badge_state(store, repository->name, name);
    if (!state) return server_error(state.error());
    HttpResponse answer = HttpResponse::text(200, status_badge_svg(repository->name, *state), "image/svg+xml");
    // Forges proxy README images through a cache: ask it to look again each time.
    answer.headers["Cache-Control"] = "no-cache, max-age=0";
    return answer;
  });
}

bool known_environment(const ServerConfig& config, const std::string& name) {
  for (const auto& environment : config.environments) {
    if (environment.name == name) return true;
  }
  return false;
}

}  // namespace

void add_repository_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/repositories", context.read_role(), [&context](HttpRequest&) {
    return with_store(context.stores, [&](Store& store) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& repository : context.config.repositories) {
        auto json = repository_json(store, context.config, repository, 1);
        if (!json) return server_error(json.error());
        list.push_back(std::move(*json));
      }
      return HttpResponse::json(200, {{"repositories", list}});
    });
  });

  router.add("GET", "/api/v1/repositories/{name}", context.read_role(), [&context](HttpRequest& request) {
    const RepositoryConfig* repository = context.config.find_repository(request.params["name"]);
    if (!repository) return unknown_repository(context.config, request.params["name"]);
    return with_store(context.stores, [&](Store& store) {
      auto json = repository_json(store, context.config, *repository, kRepositoryHistory);
      if (!json) return server_error(json.error());
      if (!json->contains("runs")) (*json)["runs"] = nlohmann::json::array();
      return HttpResponse::json(200, *json);
    });
  });

  Role badge_role = context.config.public_badges ? Role::anonymous : Role::read_only;
  router.add("GET", "/badge/{file}", badge_role, [&context](HttpRequest& request) { return badge(context, request); });

  // The server's own look at a remote (`slipway repo check`): its credentials never leave it,
  // only the diagnosis does. A local repository is checked by reading its branches.
  router.add("POST", "/api/v1/repositories/{name}/check", Role::deployer, [&context](HttpRequest& request) {
    const RepositoryConfig* repository = context.config.find_repository(request.params["name"]);
    if (!repository) return unknown_repository(context.config, request.params["name"]);
    Status checked;
    if (context.mirrors && context.mirrors->mirrors(repository->name)) {
      checked = context.mirrors->check(repository->name);
    } else if (auto heads = list_remote_heads(repository->url); !heads) {
      checked = heads.error();
    }
    nlohmann::json answer = {{"repository", repository->name}, {"url", repository->url}, {"ok", checked.ok()}};
    if (!checked) answer["diagnosis"] = sanitize_utf8(checked.error().message);
    return HttpResponse::json(200, answer);
  });

  router.add("POST", "/api/v1/repositories/{name}/trigger", Role::deployer, [&context](HttpRequest& request) {
    const std::string& name = request.params["name"];
    if (!context.config.find_repository(name)) return unknown_repository(context.config, name);
    auto trigger = parse_trigger_body(name, request.body);
    if (!trigger) return bad_request(trigger.error());
    for (const auto& environment : trigger->environments) {
      if (!known_environment(context.config, environment)) {
        return HttpResponse::error(400, fmt::format("no environment named '{}' in the server's configuration",
                                                    environment));
      }
    }
    auto id = context.queue.enqueue(*trigger);
    if (!id) return bad_request(id.error());
    return HttpResponse::json(201, {{"id", *id}});
  });
}

}  // namespace slipway
