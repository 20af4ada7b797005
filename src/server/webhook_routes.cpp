#include "server/webhook_routes.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "ci/run_queue_git.h"
#include "base/crypto.h"
#include "server/pull_request_notice.h"
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

// Which forge sent a request, and what it says it is. Gitea also sends X-GitHub-Event, so its
// own header is looked at first.
struct ForgeDelivery {
  Forge forge = Forge::github;
  std::string event;        // "push", "pull_request", "Merge Request Hook"...
  std::string delivery_id;  // the forge's unique id of this delivery; "" when it sends none
};

ForgeDelivery identify_forge(const HttpRequest& request) {
  if (std::string event = request.header("x-gitea-event"); !event.empty()) {
    return {Forge::gitea, event, request.header("x-gitea-delivery")};
  }
  if (std::string event = request.header("x-gitlab-event"); !event.empty()) {
    return {Forge::gitlab, event, request.header("x-gitlab-event-uuid")};
  }
  return {Forge::github, request.header("x-github-event"), request.header("x-github-delivery")};
}

// Nothing when the request proves it knows the secret: GitHub's X-Hub-Signature-256, Gitea's
// X-Gitea-Signature (the same HMAC, bare hex; it may send GitHub's header too), GitLab's
// X-Gitlab-Token (the secret itself: GitLab signs nothing), compared in constant time.
std::optional<HttpResponse> refuse_wrong_proof(Forge forge, const std::string& secret, const HttpRequest& request) {
  if (forge == Forge::gitlab) {
    std::string token = request.header("x-gitlab-token");
    if (token.empty()) return HttpResponse::error(401, "missing X-Gitlab-Token: set the webhook's secret token at GitLab");
    if (!equal_constant_time(token, secret)) {
      return HttpResponse::error(401, "X-Gitlab-Token is not the webhook secret the server holds");
    }
    return std::nullopt;
  }
  std::string signature = request.header("x-hub-signature-256");
  if (std::string gitea = request.header("x-gitea-signature"); forge == Forge::gitea && !gitea.empty()) {
    signature = "sha256=" + gitea;
  }
  if (signature.empty()) {
    return HttpResponse::error(401, "missing X-Hub-Signature-256: set the webhook's secret at the git host");
  }
  if (!signature_matches(secret, request.body, signature)) {
    return HttpResponse::error(401, "the webhook's signature does not match the body: the webhook's secret at the "
                                    "git host differs from the one the server holds");
  }
  return std::nullopt;
}

// Nothing when the request is signed with the repository's webhook secret; the 401 otherwise.
// The key is a server secret (store/secret_store.h), read at every request, never a job's.
std::optional<HttpResponse> refuse_unsigned(const WebhookContext& context, const RepositoryConfig& repository,
                                            const HttpRequest& request, Forge forge) {
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
  return refuse_wrong_proof(forge, **secret, request);
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

// Records the event (and the delivery id, when there is one) before anything is acted on; the
// answer when the delivery is a duplicate or the store fails.
std::optional<HttpResponse> record_received(WebhookContext& context, const EventRecord& event,
                                            const std::string& delivery_id) {
  auto store = context.stores.acquire();
  if (!store) return HttpResponse::error(503, store.error().message);
  if (delivery_id.empty()) {
    if (auto appended = append_event(**store, event); !appended) return HttpResponse::error(503, appended.error().message);
    return std::nullopt;
  }
  auto outcome = record_delivery(**store, delivery_id, event.repository, event);
  if (!outcome) return HttpResponse::error(503, outcome.error().message);
  if (outcome->duplicate) return HttpResponse::json(200, {{"duplicate", true}, {"run", outcome->run_id}});
  return std::nullopt;
}

// Queues the trigger's run and links the delivery to it; a failure lets a redelivery try again.
HttpResponse queue_run(WebhookContext& context, const TriggerRequest& trigger, const std::string& delivery_id) {
  auto run = context.queue.enqueue(trigger);
  auto store = context.stores.acquire();
  if (!run) {
    if (store && !delivery_id.empty()) (void)forget_delivery(**store, delivery_id);
    return HttpResponse::error(422, sanitize_utf8(run.error().message));
  }
  // The run exists whatever happens here; the link only lets a duplicate name it.
  if (store && !delivery_id.empty()) (void)set_delivery_run(**store, delivery_id, *run);
  return HttpResponse::json(202, {{"run", *run}});
}

// Stores the push (with its delivery id, when there is one), then queues the run.
HttpResponse accept_push(WebhookContext& context, const RepositoryConfig& repository, const PushNotice& notice,
                         const PushAction& action, std::string_view source, const std::string& delivery_id) {
  if (Status valid = check_branch_name(action.branch); !valid) {
    return HttpResponse::error(400, sanitize_utf8(valid.error().message));
  }
  EventRecord event{0, "push.received", repository.name, 0, event_payload(notice, action, source, delivery_id), 0};
  DeliveryGate::Pass pass = context.deliveries.enter(delivery_id);
  if (auto answered = record_received(context, event, delivery_id)) return *answered;
  return queue_run(context, {repository.name, action.commit, action.branch, "push", {}, {}}, delivery_id);
}

// A pull request: its head tested (Test only; a fork's without secrets), or its runs cancelled.
HttpResponse accept_pull_request(WebhookContext& context, const RepositoryConfig& repository, Forge forge,
                                 const HttpRequest& request, const std::string& delivery_id) {
  auto notice = parse_pull_request_notice(forge, request.body);
  if (!notice) return HttpResponse::error(400, sanitize_utf8(notice.error().message));
  const PullRequestInfo& info = notice->info;
  if (notice->action == PullRequestNotice::Action::ignore) {
    return HttpResponse::json(202, {{"ignored", sanitize_utf8(notice->ignored)}});
  }
  if (notice->action == PullRequestNotice::Action::close) {
    int cancelled = context.queue.cancel_pull_request(repository.name, info.number,
                                                      fmt::format("pull request #{} was closed", info.number));
    return HttpResponse::json(202, {{"cancelled", cancelled}});
  }
  for (const std::string& branch : {info.source, info.target}) {
    if (Status valid = check_branch_name(branch); !valid) return HttpResponse::error(400, sanitize_utf8(valid.error().message));
  }
  nlohmann::json payload = {{"number", info.number}, {"head", notice->head_sha}, {"source", info.source},
                            {"target", info.target}, {"fork", info.fork}};
  if (!delivery_id.empty()) payload["delivery"] = delivery_id;
  EventRecord event{0, "pull_request.received", repository.name, 0,
                    payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0};
  DeliveryGate::Pass pass = context.deliveries.enter(delivery_id);
  if (auto answered = record_received(context, event, delivery_id)) return *answered;
  TriggerRequest trigger{repository.name, notice->head_sha, info.source, "pull_request", {}, info};
  return queue_run(context, trigger, delivery_id);
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

bool is_push_event(const ForgeDelivery& delivery) {
  return delivery.forge == Forge::gitlab ? delivery.event == "Push Hook" : delivery.event == "push";
}

bool is_pull_request_event(const ForgeDelivery& delivery) {
  if (delivery.forge == Forge::gitlab) return delivery.event == "Merge Request Hook";
  return delivery.event == "pull_request" || (delivery.forge == Forge::gitea && delivery.event == "pull_request_sync");
}

// Required where the forge always sends one (GitHub, Gitea): the id is what makes a redelivery
// harmless. GitLab's X-Gitlab-Event-UUID is used when present (older versions send none).
std::optional<HttpResponse> refuse_delivery_id(const ForgeDelivery& delivery) {
  if (delivery.delivery_id.empty()) {
    if (delivery.forge == Forge::gitlab) return std::nullopt;
    const char* header = delivery.forge == Forge::gitea ? "X-Gitea-Delivery" : "X-GitHub-Delivery";
    return HttpResponse::error(400, fmt::format("missing {}: every delivery must carry its unique id (the forge "
                                                "sends one; another host must send one too)", header));
  }
  if (!is_valid_delivery_id(delivery.delivery_id)) {
    return HttpResponse::error(400, "the delivery id must be printable text of at most 128 characters");
  }
  return std::nullopt;
}

HttpResponse handle_git_webhook(WebhookContext& context, HttpRequest& request) {
  const RepositoryConfig* repository = context.config.find_repository(request.params["name"]);
  if (!repository) return unknown_repository_anonymous(request.params["name"]);
  ForgeDelivery delivery = identify_forge(request);
  if (auto refused = refuse_unsigned(context, *repository, request, delivery.forge)) return *refused;
  if (delivery.event == "ping") return HttpResponse::json(200, {{"pong", true}});
  if (delivery.event.empty()) {
    return HttpResponse::error(400, "missing X-GitHub-Event (or X-Gitea-Event, X-Gitlab-Event): send the host's "
                                    "push and pull request events");
  }
  bool push = is_push_event(delivery);
  if (!push && !is_pull_request_event(delivery)) {
    return HttpResponse::json(202, {{"ignored", fmt::format("'{}' events start no run", sanitize_utf8(delivery.event))}});
  }
  if (auto refused = refuse_delivery_id(delivery)) return *refused;
  if (!push) return accept_pull_request(context, *repository, delivery.forge, request, delivery.delivery_id);
  PushNotice notice;
  PushAction action;
  if (auto answered = read_push(request, notice, action)) return *answered;
  if (auto stale = ignore_stale(context, *repository, action)) return *stale;
  return accept_push(context, *repository, notice, action, "webhook", delivery.delivery_id);
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
