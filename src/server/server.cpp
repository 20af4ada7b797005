#include "server/server.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "cd/application_directory.h"
#include "cd/container_runtime.h"
#include "cd/deployment_controller.h"
#include "cd/docker_pods.h"
#include "cd/image_intake.h"
#include "cd/task_environment.h"
#include "cd/task_registry.h"
#include "cd/task_runner.h"
#include "cd/task_scheduler.h"
#include "ci/repository_mirrors.h"
#include "ci/run_queue.h"
#include "publish/artifact_publisher.h"
#include "publish/registry_client.h"
#include "server/api_routes.h"
#include "server/auth.h"
#include "server/chat_notices.h"
#include "server/forge_statuses.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/outbox_worker.h"
#include "server/run_pruner.h"
#include "server/store_pool.h"
#include "server/ui_assets.h"
#include "server/verify_sandbox.h"
#include "server/webhook_routes.h"
#include "store/events.h"
#include "store/master_key.h"
#include "store/secret_store.h"

namespace slipway {

// The server's parts. Those that need nothing secret are members made with the Impl; the
// rest are built by start(), in one function and one order, once the master key is loaded:
// each takes what it needs in its constructor, and nothing is handed to a part after it.
struct Server::Impl {
  ServerOptions options;
  StorePool stores;
  ArtifactPublisher publisher;
  Auth auth;
  HttpMetrics metrics;
  Router router;
  DockerContainerRuntime containers;
  DiskGauge disk;  // the data directory's size, measured at start and by the pruner
  RunPruner pruner;
  DockerPods pods;  // test jobs' service containers
  // Built by start(), in this order.
  std::string master_key;
  std::unique_ptr<RepositoryMirrors> mirrors;  // remote repositories
  std::unique_ptr<RunQueue> queue;
  std::unique_ptr<OutboxWorker> outbox;        // forge statuses and chat notices
  std::unique_ptr<ApplicationDirectory> directory;
  std::unique_ptr<DeploymentController> deployments;
  std::unique_ptr<TaskRegistry> task_registry;
  std::unique_ptr<TaskRunner> tasks;
  std::unique_ptr<TaskScheduler> scheduler;
  std::unique_ptr<ImageIntake> intake;
  std::unique_ptr<ApiContext> api;
  std::unique_ptr<WebhookContext> webhooks;
  std::unique_ptr<HttpServer> http;
  std::thread remote_checks;                   // start-up diagnosis of each remote, logged
  bool started = false;

  explicit Impl(ServerOptions o)
      : options(std::move(o)),
        stores(options.data.database()),
        publisher(options.config),
        auth(stores),
        pruner(options.data, options.config, &containers, &disk),
        pods(containers, std::filesystem::absolute(options.data.root).string()) {}

  ~Impl() {
    if (remote_checks.joinable()) remote_checks.join();
  }

  Status build();  // everything after the master key, in order
  Status open_mirrors();
  Status start_outbox();
  Status start_deployments();
  Status start_tasks();
  void make_api();
  void add_routes();
  Status start_http();
  void record_schedule_failure(const ScheduleConfig& schedule, const std::string& error);
  void stop_parts();
  HttpResponse handle(HttpRequest& request);
  void observe(const HttpRequest& request, int status, std::chrono::microseconds elapsed);
};

// The digest a registry holds for a tag, for the intake's poll: the registry client lives in
// publish/, which cd must not depend on, so the server hands it over as a function.
Result<std::optional<std::string>> lookup_tag_digest(const std::string& repository, const std::string& tag,
                                                     const std::optional<PullCredentials>& credentials) {
  auto [registry, path] = split_registry_url(repository);
  RegistryCredentials login;
  if (credentials) login = {credentials->username, credentials->password};
  RegistryClient client(RegistryEndpoint{registry, login, ""});
  return client.resolve_digest(path, tag);
}

// Remote repositories' mirrors, their credentials resolved from the server's secrets (a missing
// one refuses the start). Each remote is then checked once, in the background, so that a wrong
// token or host key shows in the log at start and not only when a run fails.
Status Server::Impl::open_mirrors() {
  auto store = stores.acquire();
  if (!store) return store.error();
  SecretStore secrets(**store, master_key);
  auto opened = RepositoryMirrors::open(options.data, options.config.repositories, secrets);
  if (!opened) return opened.error();
  mirrors = std::move(*opened);
  if (mirrors->names().empty()) return {};
  remote_checks = std::thread([mirrors = mirrors.get()] {
    for (const std::string& name : mirrors->names()) {
      if (Status checked = mirrors->check(name); checked) {
        spdlog::info("repository {}: remote reachable", name);
      } else {
        spdlog::warn("repository {}: {}", name, checked.error().message);
      }
    }
  });
  return {};
}

// What Slipway tells the outside, read from the event log: forge commit statuses and chat
// notices, through the durable outbox.
Status Server::Impl::start_outbox() {
  OutboxWorkerOptions worker;
  worker.database = options.data.database();
  worker.retry_for = options.config.outbox_retry_for;
  if (wants_forge_statuses(options.config)) {
    worker.feeders.push_back(forge_status_feeder(options.config));
    worker.kinds.push_back(forge_status_kind(options.config, master_key));
  }
  if (wants_chat_notices(options.config)) {
    worker.feeders.push_back(chat_notice_feeder(options.config, master_key));
    worker.kinds.push_back(chat_notice_kind(options.config, master_key));
  }
  outbox = std::make_unique<OutboxWorker>(std::move(worker));
  return outbox->start();
}

// Continuous deployment: the controller (recovery first), then the intake that feeds it from
// stored image pushes and the registry poll. Their steps reach chat through the event log.
Status Server::Impl::start_deployments() {
  std::filesystem::path database = options.data.database();
  directory = std::make_unique<ApplicationDirectory>(options.config, database, master_key);
  DeploymentControllerOptions controller;
  controller.database = database;
  controller.routers_directory = options.data.root / "routers";
  controller.containers = &containers;
  controller.resolve = [this](const std::string& application, const std::string& environment) {
    return directory->resolve(application, environment);
  };
  controller.owner = std::filesystem::absolute(options.data.root).string();
  controller.verify_sandbox = verify_sandbox_factory(options.data.root, options.config.limits);
  deployments = std::make_unique<DeploymentController>(std::move(controller));
  if (Status started = deployments->start(); !started) return started;
  if (Status started = start_tasks(); !started) return started;
  ImageIntakeOptions intake_options{database, directory.get(), deployments.get(), lookup_tag_digest,
                                    options.config.registry_poll_interval};
  intake_options.tasks = task_registry.get();
  intake = std::make_unique<ImageIntake>(std::move(intake_options));
  return intake->start();
}

// Data tasks: a run's secrets and pull credentials come from the secret store at each run
// (cd/task_environment.h), as a deployment's.
Status Server::Impl::start_tasks() {
  std::filesystem::path database = options.data.database();
  task_registry = std::make_unique<TaskRegistry>(*directory, options.config.task_revisions_kept);
  TaskRunnerOptions runner;
  runner.database = database;
  runner.runs_directory = options.data.root / "task-runs";
  runner.containers = &containers;
  runner.resolve = [this](const std::string& repository, const std::string& environment) {
    return resolve_task_environment(options.data.database(), master_key, options.config, repository, environment);
  };
  runner.owner = std::filesystem::absolute(options.data.root).string();
  tasks = std::make_unique<TaskRunner>(std::move(runner));
  if (Status started = tasks->start(); !started) return started;
  TaskSchedulerOptions timer{database, &options.config, tasks.get(),
                             [this](const ScheduleConfig& schedule, const std::string& error) {
                               record_schedule_failure(schedule, error);
                             }};
  scheduler = std::make_unique<TaskScheduler>(std::move(timer));
  return scheduler->start();
}

// An event (and so a chat notice): a schedule is unattended, so a failure must reach people.
void Server::Impl::record_schedule_failure(const ScheduleConfig& schedule, const std::string& error) {
  auto store = stores.acquire();
  auto appended = store ? append_event(**store, schedule_failed_event(schedule, error)) : Result<int64_t>(store.error());
  if (!appended) spdlog::warn("schedule {}: {} (and the event: {})", schedule.name, error, appended.error().message);
}

// Stops what was started, the last started first; safe after a start that failed part way.
void Server::Impl::stop_parts() {
  if (http) http->stop();
  if (intake) intake->stop();
  if (scheduler) scheduler->stop();
  if (tasks) tasks->stop();
  if (deployments) deployments->stop();
  if (outbox) outbox->stop();
  if (queue) queue->stop();
}

// The API sees every part, each given once it runs.
void Server::Impl::make_api() {
  api = std::unique_ptr<ApiContext>(new ApiContext{stores, *queue, options.config, options.data, master_key,
                                                   deployments.get(), [this] { intake->wake(); }, tasks.get(),
                                                   mirrors.get()});
  webhooks = std::unique_ptr<WebhookContext>(
      new WebhookContext{options.config, *queue, stores, master_key, mirrors.get()});
}

void Server::Impl::add_routes() {
  add_api_routes(router, *api);
  add_webhook_routes(router, *webhooks);
  add_metrics_route(router, *api, metrics, disk);
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

namespace {

// The data directory holds the master key, the database and every run's logs: only the server's
// user may enter it, and the database files are its alone. `slipway serve` also sets a umask of
// 077, so what is created later is private too; these calls fix what an older version made.
// SQLite gives the -wal and -shm files the database file's mode, hence the order: before the
// first connection, and again after it for a database that connection created.
Status make_private(const DataDirectory& data) {
  if (::chmod(data.root.c_str(), 0700) != 0) {
    return make_error(fmt::format("cannot make the data directory {} private (chmod 700): {}", data.root.string(),
                                  errno_text(errno)));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::string file = data.database().string() + suffix;
    if (::chmod(file.c_str(), 0600) != 0 && errno != ENOENT) {
      return make_error(fmt::format("cannot make {} private (chmod 600): {}", file, errno_text(errno)));
    }
  }
  return {};
}

}  // namespace

Result<std::string> Server::start() {
  Impl& s = *impl_;
  if (Status valid = check_admin_token(s.options.admin_token); !s.options.admin_token.empty() && !valid) {
    return valid.error();
  }
  if (Status made = make_directories(s.options.data.root); !made) return made.error();
  if (Status private_data = make_private(s.options.data); !private_data) return private_data.error();
  auto master_key = load_master_key(s.options.data.root, s.options.master_key_variable);
  if (!master_key) return master_key.error();
  s.master_key = *master_key;
  // Opening a connection first runs the store's migrations before anything else uses it.
  if (auto store = s.stores.acquire(); !store) return store.error();
  auto admin_token = s.auth.ensure_admin_token(s.options.admin_token);
  if (!admin_token) return admin_token.error();
  if (Status built = s.build(); !built) {
    s.stop_parts();
    return built.error();
  }
  s.pruner.start();  // after the queue's recovery: runs a killed server left are finished by then
  s.started = true;
  return *admin_token;
}

// The one order: mirrors (they read server secrets), the queue (recovery, then workers), the
// outbox, deployments and tasks, then the API over all of them, and last the HTTP server.
Status Server::Impl::build() {
  if (Status mirrored = open_mirrors(); !mirrored) return mirrored;
  if (Status private_data = make_private(options.data); !private_data) return private_data;
  queue = std::make_unique<RunQueue>(options.data, options.config,
                                     QueueServices{&publisher, master_key, &pods, mirrors.get()});
  if (Status queued = queue->start(); !queued) return queued;
  disk.set(measure_disk_usage(options.data));  // after recovery removed what a crash left
  if (Status reporting = start_outbox(); !reporting) return reporting;
  if (Status deploying = start_deployments(); !deploying) return deploying;
  make_api();
  add_routes();
  return start_http();
}

Status Server::Impl::start_http() {
  HttpServerOptions http_options{options.config.listen, options.http_threads, options.config.max_body_bytes};
  http_options.max_connections = options.config.max_connections;
  http = std::make_unique<HttpServer>(
      http_options, [this](HttpRequest& request) { return handle(request); },
      [this](const HttpRequest& request, int status, std::chrono::microseconds elapsed) {
        observe(request, status, elapsed);
      });
  return http->start();
}

std::string Server::address() const { return impl_->http ? impl_->http->address() : std::string(); }

DiskUsage Server::disk_usage() const { return impl_->disk.get(); }

void Server::stop() {
  Impl& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.pruner.stop();
  s.stop_parts();
  if (s.remote_checks.joinable()) s.remote_checks.join();
}

}  // namespace slipway
