#include "server/webhook_routes.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "ci/run_queue_git.h"
#include "server/push_notice.h"
#include "server/webhook_signature.h"
#include "store/events.h"
#include "store/secret_store.h"
#include "store/webhook_deliveries.h"

namespace slipway {
namespace {

// GitHub's ids are UUIDs; anything printable up to this length is accepted from other hosts.
constexpr size_t kMaxDeliveryIdLength = 128;

bool is_valid_delivery_id(std::string_view id) {
  if (id.size() > kMaxDeliveryIdLength) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Hosts may send a sha in upper case; git prints lower case.
bool same_sha(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The webhook route is anonymous: its 404 names no repository, so that nobody can list them.
HttpResponse unknown_repository_anonymous(const std::string& name) {
  return HttpResponse::error(404, fmt::format("unknown repository '{}': check the webhook's URL against the "
                                              "repository's name in the server configuration",
                                              sanitize_utf8(name.substr(0, 100))));
}

HttpResponse unknown_repository(const ServerConfig& config, const std::string& name) {
  return HttpResponse::error(404, fmt::format("unknown repository '{}' (configured: {})", sanitize_utf8(name),
                                              config.repository_names()));
}

// The 401 for a webhook secret with no value among the server secrets. A value stored the way
// earlier versions did — a repository secret, (repository or '*', '*', NAME) — is not used: every
// test job of the repository received it, so it must be moved (and is best replaced).
HttpResponse secret_not_set(SecretStore& secrets, const RepositoryConfig& repository) {
  std::string moved;
  for (const std::string& owner : {repository.name, std::string(kAnyScope)}) {
    auto old = secrets.get(owner, std::string(kAnyScope), repository.webhook_secret);
    if (old && *old && moved.empty()) {
      moved = fmt::format(" It is stored as a repository secret ({} '*' {}), which every test job receives, so it "
                          "is not used: choose a new value, set it as a server secret and remove the old one "
                          "(slipway secret rm '{}' '*' {}).", owner, repository.webhook_secret, owner,
                          repository.webhook_secret);
    }
  }
  return HttpResponse::error(401, fmt::format(
      "the webhook secret '{}' of repository '{}' has no value among the server secrets: set it with `slipway "
      "secret set --server-only {}` (it is read at every request: no restart needed).{}",
      repository.webhook_secret, repository.name, repository.webhook_secret, moved));
}

// Nothing when the request is signed with the repository's webhook secret; the 401 otherwise.
// The key is a server secret (store/secret_store.h), read at every request, never a job's.
std::optional<HttpResponse> refuse_unsigned(const WebhookContext& context, const RepositoryConfig& repository,
                                            const HttpRequest& request) {
  if (repository.webhook_secret.empty()) {
    return HttpResponse::error(401, fmt::format(
        "repository '{}' has no webhook secret, so no webhook can be trusted: add `webhook_secret: NAME` to "
        "it in the server configuration, give it a value with `slipway secret set --server-only NAME`, and "
        "enter that value as the webhook's secret at the git host", repository.name));
  }
  auto store = context.stores.acquire();
  if (!store) return HttpResponse::error(503, store.error().message);
  SecretStore secrets(**store, context.master_key);
  auto secret = secrets.get_server(repository.webhook_secret);
  if (!secret) return HttpResponse::error(500, secret.error().message);
  if (!*secret) return secret_not_set(secrets, repository);
  std::string signature = request.header("x-hub-signature-256");
  if (signature.empty()) {
    return HttpResponse::error(401, "missing X-Hub-Signature-256: set the webhook's secret at the git host");
  }
  if (!signature_matches(**secret, request.body, signature)) {
    return HttpResponse::error(401, "X-Hub-Signature-256 does not match the body: the webhook's secret at the "
                                    "git host differs from the one the server holds");
  }
  return std::nullopt;
}

// A push is acted on only while it is news: its commit must be the branch's head in the
// repository now. Otherwise a replay — an old delivery's body with its valid signature, sent
// again — would test, publish and deploy an old version. Nothing when the push is current, or
// when the branch cannot be read (enqueue() then answers with the reason).
std::optional<HttpResponse> ignore_stale(const WebhookContext& context, const RepositoryConfig& repository,
                                         const PushAction& action) {
  // A remote repository's mirror may not hold the push yet: the worker checks after its fetch.
  if (context.mirrors && context.mirrors->mirrors(repository.name)) return std::nullopt;
  auto head = resolve_trigger_commit(repository.url, "", action.branch);
  if (!head || same_sha(*head, action.commit)) return std::nullopt;
  return HttpResponse::json(202, {{"ignored", fmt::format("stale push: branch '{}' is at {} now, not at {}; "
                                                          "nothing was started", sanitize_utf8(action.branch),
                                                          head->substr(0, 12), action.commit.substr(0, 12))}});
}

std::string event_payload(const PushNotice& notice, const PushAction& action, std::string_view source,
                          const std::string& delivery_id) {
  nlohmann::json payload = {{"ref", notice.ref},         {"before", notice.before}, {"after", notice.after},
                            {"branch", action.branch},   {"source", source}};
  if (!delivery_id.empty()) payload["delivery"] = delivery_id;
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Stores the push (with its delivery id, when there is one), then queues the run.
HttpResponse accept_push(WebhookContext& context, const RepositoryConfig& repository, const PushNotice& notice,
                         const PushAction& action, std::string_view source, const std::string& delivery_id) {
  if (Status valid = check_branch_name(action.branch); !valid) {
    return HttpResponse::error(400, sanitize_utf8(valid.error().message));
  }
  EventRecord event{0, "push.received", repository.name, 0, event_payload(notice, action, source, delivery_id), 0};
  {
    auto store = context.stores.acquire();
    if (!store) return HttpResponse::error(503, store.error().message);
    if (delivery_id.empty()) {
      if (auto appended = append_event(**store, event); !appended) return HttpResponse::error(503, appended.error().message);
    } else {
      auto outcome = record_delivery(**store, delivery_id, repository.name, event);
      if (!outcome) return HttpResponse::error(503, outcome.error().message);
      if (outcome->duplicate) return HttpResponse::json(200, {{"duplicate", true}, {"run", outcome->run_id}});
    }
  }
  auto run = context.queue.enqueue({repository.name, action.commit, action.branch, "push", {}});
  auto store = context.stores.acquire();
  if (!run) {
    // Let the sender's redelivery try again rather than be dropped as a duplicate.
    if (store && !delivery_id.empty()) (void)forget_delivery(**store, delivery_id);
    return HttpResponse::error(422, sanitize_utf8(run.error().message));
  }
  // The run exists whatever happens here; the link only lets a duplicate name it.
  if (store && !delivery_id.empty()) (void)set_delivery_run(**store, delivery_id, *run);
  return HttpResponse::json(202, {{"run", *run}});
}

// Parses the body into a push; the response when it is malformed or asks for no run.
std::optional<HttpResponse> read_push(const HttpRequest& request, PushNotice& notice, PushAction& action) {
  auto parsed = parse_push_notice(request.body);
  if (!parsed) return HttpResponse::error(400, parsed.error().message);
  auto decided = push_action(*parsed);
  if (!decided) return HttpResponse::error(400, decided.error().message);
  notice = std::move(*parsed);
  action = std::move(*decided);
  if (!action.ignored.empty()) return HttpResponse::json(202, {{"ignored", action.ignored}});
  return std::nullopt;
}

HttpResponse handle_git_webhook(WebhookContext& context, HttpRequest& request) {
  const RepositoryConfig* repository = context.config.find_repository(request.params["name"]);
  if (!repository) return unknown_repository_anonymous(request.params["name"]);
  if (auto refused = refuse_unsigned(context, *repository, request)) return *refused;
  std::string event = request.header("x-github-event");
  if (event == "ping") return HttpResponse::json(200, {{"pong", true}});
  if (event.empty()) return HttpResponse::error(400, "missing X-GitHub-Event: send the host's push events");
  if (event != "push") {
    return HttpResponse::json(202, {{"ignored", fmt::format("'{}' events start no run", sanitize_utf8(event))}});
  }
  // Required: the id is what makes a redelivery of the same push harmless.
  std::string delivery_id = request.header("x-github-delivery");
  if (delivery_id.empty()) {
    return HttpResponse::error(400, "missing X-GitHub-Delivery: every push must carry its delivery's unique id "
                                    "(GitHub sends one; another host must send one too)");
  }
  if (!is_valid_delivery_id(delivery_id)) {
    return HttpResponse::error(400, "X-GitHub-Delivery must be printable text of at most 128 characters");
  }
  PushNotice notice;
  PushAction action;
  if (auto answered = read_push(request, notice, action)) return *answered;
  if (auto stale = ignore_stale(context, *repository, action)) return *stale;
  return accept_push(context, *repository, notice, action, "webhook", delivery_id);
}

HttpResponse handle_hook_push(WebhookContext& context, HttpRequest& request) {
  const RepositoryConfig* repository = context.config.find_repository(request.params["name"]);
  if (!repository) return unknown_repository(context.config, request.params["name"]);
  PushNotice notice;
  PushAction action;
  if (auto answered = read_push(request, notice, action)) return *answered;
  if (auto stale = ignore_stale(context, *repository, action)) return *stale;
  return accept_push(context, *repository, notice, action, "hook", "");
}

}  // namespace

void add_webhook_routes(Router& router, WebhookContext& context) {
  router.add("POST", "/api/v1/webhooks/git/{name}", Role::anonymous,
             [&context](HttpRequest& request) { return handle_git_webhook(context, request); });
  router.add("POST", "/api/v1/repositories/{name}/push", Role::deployer,
             [&context](HttpRequest& request) { return handle_hook_push(context, request); });
}

}  // namespace slipway
