#include "server/server.h"

#include <cstdlib>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "ci/run_queue.h"
#include "publish/artifact_publisher.h"
#include "server/api_routes.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/store_pool.h"
#include "server/ui_assets.h"
#include "server/webhook_routes.h"
#include "store/master_key.h"

namespace slipway {

struct Server::Impl {
  ServerOptions options;
  StorePool stores;
  ArtifactPublisher publisher;
  RunQueue queue;
  Auth auth;
  HttpMetrics metrics;
  Router router;
  ApiContext api;
  WebhookContext webhooks;
  std::unique_ptr<HttpServer> http;
  bool started = false;

  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        stores(options.data.database()),
        publisher(options.config),
        queue(options.data, options.config),
        auth(stores),
        api{stores, queue, options.config, options.data},
        webhooks{options.config, queue, stores, read_secret_from_environment} {}

  // A webhook secret the secret store does not hold comes from the server's environment.
  static std::string read_secret_from_environment(const std::string& name) {
    const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
    return value ? value : "";
  }

  void add_routes();
  HttpResponse handle(HttpRequest& request);
  void observe(const HttpRequest& request, int status, std::chrono::microseconds elapsed);
};

void Server::Impl::add_routes() {
  add_api_routes(router, api);
  add_webhook_routes(router, webhooks);
  add_metrics_route(router, api, metrics);
  // The page itself holds no data (it asks for a token), so it is public.
  auto ui = [](HttpRequest& request) {
    auto asset = serve_ui_asset(request.path, request.header("if-none-match"));
    return asset ? std::move(*asset) : HttpResponse::error(404, "no such file in the web UI: " + request.path);
  };
  router.add("GET", "/", Role::anonymous, ui);
  router.add("GET", "/index.html", Role::anonymous, ui);
  router.add("GET", "/assets/{file}", Role::anonymous, ui);
}

// Authentication happens here, before routing: the router then only compares roles.
HttpResponse Server::Impl::handle(HttpRequest& request) {
  auto identity = auth.identify(request.header("authorization"));
  if (!identity) return HttpResponse::error(401, identity.error().message);
  request.role = identity->role;
  request.token_name = identity->token_name;
  return router.dispatch(request);
}

void Server::Impl::observe(const HttpRequest& request, int status, std::chrono::microseconds elapsed) {
  metrics.record(status);
  spdlog::debug("{} {} {} {:.1f}ms {}", request.method, request.path, status, elapsed.count() / 1000.0,
                request.token_name.empty() ? "-" : request.token_name);
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

Result<std::string> Server::start() {
  Impl& s = *impl_;
  if (Status made = make_directories(s.options.data.root); !made) return made.error();
  auto master_key = load_master_key(s.options.data.root);
  if (!master_key) return master_key.error();
  s.api.master_key = s.webhooks.master_key = *master_key;
  s.queue.set_publishing(PublishServices{&s.publisher, *master_key});
  // Opening a connection first runs the store's migrations before anything else uses it.
  if (auto store = s.stores.acquire(); !store) return store.error();
  auto admin_token = s.auth.ensure_admin_token(s.options.admin_token);
  if (!admin_token) return admin_token.error();
  if (Status queued = s.queue.start(); !queued) return queued.error();
  s.add_routes();
  HttpServerOptions http_options{s.options.config.listen, s.options.http_threads, s.options.config.max_body_bytes};
  s.http = std::make_unique<HttpServer>(
      http_options, [&s](HttpRequest& request) { return s.handle(request); },
      [&s](const HttpRequest& request, int status, std::chrono::microseconds elapsed) {
        s.observe(request, status, elapsed);
      });
  if (Status listening = s.http->start(); !listening) {
    s.queue.stop();
    return listening.error();
  }
  s.started = true;
  return *admin_token;
}

std::string Server::address() const { return impl_->http ? impl_->http->address() : std::string(); }

void Server::stop() {
  Impl& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.queue.stop();
  s.http->stop();
}

}  // namespace slipway
