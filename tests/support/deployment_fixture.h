// DeploymentFixture: everything a blue/green deployment test needs, real and on loopback — the
// Docker Engine, a distribution registry (htpasswd) whose notifications go to a `slipway serve`,
// the application repository, two chat receivers (Slack and JSON webhook) and the router ports
// HAProxy will listen on. Versions of the test application (tests/apps/bluegreen_app.c, built
// once per process with gcc -static) are pushed FROM scratch images with their switches baked
// into ENV. Cleanup, even after a failed assertion: the server, the HAProxy it started (by its
// pidfile) and every container labelled with this fixture's data directory.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/ports.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "cd/container_runtime.h"
#include "publish/docker_engine.h"
#include "store/deployments.h"
#include "support/chat_receiver.h"
#include "support/command_with_input.h"
#include "support/docker_daemon.h"
#include "support/test_images.h"
#include "support/http_test_client.h"
#include "support/registry_fixture.h"
#include "support/scratch_repository.h"

namespace slipway::testing {

struct DeploySettings {
  std::string health = "{ path: /health, interval: 200ms, timeout: 1s, healthy: 3, unhealthy: 2 }";
  std::string bake = "2s";
  std::string drain = "2s";
  int retain = 1;
  std::string verify;                   // "" = none
  std::string poll_interval = "0s";     // the registry poll; 0 = off
  bool notifications = true;            // registry notifications to Slipway
  std::string repository_file;          // .slipway.yml of the repository; "" = the application's
  std::string extra_config;             // top-level lines added to the server's slipway.yml
  // More environments beside production, each with its own path in the registry (/NAME) and the
  // registry's credentials; publish: manual, no router (for data tasks).
  std::vector<std::string> more_environments;
};

inline std::string describe_containers(const std::map<std::string, std::string>& containers) {
  std::string text = "containers:";
  for (const auto& [name, state] : containers) text += " " + name + "=" + state;
  return text + "\n";
}

class DeploymentFixture {
 public:
  static constexpr const char* kAdminToken = "deployment-fixture-admin-token-0123456789abcdef";
  static constexpr const char* kApplication = "hello";
  static constexpr const char* kEnvironment = "production";

  explicit DeploymentFixture(DeploySettings settings = {})
      : settings_(std::move(settings)), folder_("slipway-deploy"), engine_(DockerDaemon::kSocket) {
    if (!daemon_.error().empty()) {
      error_ = "dockerd: " + daemon_.error();
      return;
    }
    auto server_port = slipway::free_loopback_port();
    auto router_port = slipway::free_loopback_port();
    auto test_port = slipway::free_loopback_port();
    if (!server_port || !router_port || !test_port) {
      error_ = "no free loopback port";
      return;
    }
    server_listen_ = fmt::format("127.0.0.1:{}", *server_port);
    router_listen_ = fmt::format("127.0.0.1:{}", *router_port);
    test_listen_ = fmt::format("127.0.0.1:{}", *test_port);
    RegistryOptions registry_options;
    if (settings_.notifications) {
      registry_options.notifications_url = "http://" + server_listen_ + "/api/v1/registry/events";
      registry_options.notifications_token = kAdminToken;
    }
    registry_ = std::make_unique<RegistryServer>(registry_options);
    if (!registry_->error().empty()) {
      error_ = "registry: " + registry_->error();
      return;
    }
    if (!compile_app() || !write_repository() || !set_secrets()) return;
    start_server();
  }

  ~DeploymentFixture() {
    if (server_) server_->stop();
    cleanup_router_and_containers();
  }

  const std::string& error() const { return error_; }
  ServerProcess& server() { return *server_; }
  RegistryServer& registry() { return *registry_; }
  ChatReceiver& slack() { return slack_; }
  ChatReceiver& webhook() { return webhook_; }
  const std::string& router_listen() const { return router_listen_; }
  const std::string& test_listen() const { return test_listen_; }
  std::filesystem::path data() const { return folder_.path() / "data"; }
  std::string owner() const { return std::filesystem::absolute(data()).string(); }
  std::string image_repository() const { return registry_->address() + "/prod/hello"; }
  // The image repository of one of `more_environments`.
  std::string image_repository_of(const std::string& environment) const {
    return registry_->address() + "/" + environment + "/hello";
  }

  // Sets a secret of the fixture's server (its data directory, the server may be running).
  bool set_secret(const std::string& scope, const std::string& name, const std::string& value) {
    CommandOutput set = run_with_input({SLIPWAY_BINARY, "secret", "set", scope, kEnvironment, name, "--data-dir",
                                        data().string()},
                                       value);
    if (set.exit_code != 0) error_ = "slipway secret set " + name + ": " + set.err;
    return set.exit_code == 0;
  }

  void start_server() {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (folder_.path() / "slipway.yml").string(), "--data-dir", data().string()},
        kAdminToken, server_listen_);
    if (server_->address().empty()) error_ = "slipway serve did not start:\n" + server_->log();
  }

  // Builds the application with `env` baked in, pushes it as `tag` and removes the local copy
  // (so the deployment pulls it from the registry with the environment's credentials). Returns
  // the digest, or "" with error() set.
  std::string push_version(const std::string& tag, const std::map<std::string, std::string>& env = {}) {
    std::string dockerfile = "FROM scratch\nCOPY bluegreen_app /app\n";
    std::map<std::string, std::string> all = env;
    all.emplace("APP_VERSION", tag);
    for (const auto& [name, value] : all) dockerfile += fmt::format("ENV {}={}\n", name, value);
    dockerfile += "ENTRYPOINT [\"/app\"]\n";
    return push_image(tag, dockerfile);
  }

  // The data-task test program (tests/apps/task_app.c) as /task; `tag` goes into a label so that
  // each tag is an image of its own digest.
  std::string push_task_version(const std::string& tag, const std::string& repository = "") {
    return push_image(tag, "FROM scratch\nCOPY task_app /task\nLABEL version=" + tag + "\nENTRYPOINT [\"/task\"]\n",
                      repository);
  }

  // Pushes to `repository` (default: production's image repository).
  std::string push_image(const std::string& tag, const std::string& dockerfile, const std::string& repository = "") {
    // Tests run side by side on one Engine: a label of this fixture's own keeps its images from
    // being the very same image (one ID) as another fixture's, whose forced removal of its tag
    // would then take this fixture's image away too.
    std::string own = dockerfile + fmt::format("LABEL slipway.test-fixture=\"{}\"\n", registry_->address());
    if (!write_file_atomically(app_dir() / "Dockerfile", own)) return fail("cannot write the Dockerfile");
    std::string reference = (repository.empty() ? image_repository() : repository) + ":" + tag;
    ImageBuildRequest build;
    build.context = app_dir();
    build.tags = {reference};
    auto built = engine_.build_image(build, [](std::string_view) {});
    if (!built) return fail("build: " + built.error().message);
    auto colon = reference.rfind(':');
    auto digest = push_through_engine(DockerDaemon::kSocket, reference.substr(0, colon), reference.substr(colon + 1),
                                      {registry_->username(), registry_->password(), registry_->address()});
    (void)engine_.remove_image(reference, true);
    if (!digest) return fail("push: " + digest.error().message);
    return *digest;
  }

  // GET / through the production listener: "v1" from "version v1\n", or "" with `status` set.
  std::string live_version(int* status = nullptr) const { return version_at(router_listen_, status); }

  static std::string version_at(const std::string& address, int* status = nullptr) {
    HttpAnswer answer = http_request(address, "GET", "/", {});
    if (status) *status = answer.status;
    if (answer.status != 200 || answer.body.rfind("version ", 0) != 0) return "";
    return std::string(trim(answer.body.substr(8)));
  }

  bool wait_for_live_version(const std::string& version, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (live_version() == version) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Every deployment of the application, newest first, with its steps.
  std::vector<DeploymentRecord> deployments() const {
    std::vector<DeploymentRecord> found;
    auto store = Store::open(data() / "slipway.db");
    if (!store) return found;
    auto listed = list_deployments(**store, {kApplication, kEnvironment, false, 0, 100});
    if (!listed) return found;
    for (const DeploymentRecord& record : *listed) {
      auto full = find_deployment(**store, record.id);
      if (full && *full) found.push_back(**full);
    }
    return found;
  }

  // Waits until `count` deployments exist and none is active.
  bool wait_settled(size_t count, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto all = deployments();
      bool active = false;
      for (const auto& deployment : all) active = active || !deployment.outcome;
      if (all.size() >= count && !active) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // This fixture's containers, by name → state ("running", "exited", ...).
  std::map<std::string, std::string> containers() const {
    std::map<std::string, std::string> found;
    DockerContainerRuntime runtime(DockerDaemon::kSocket);
    auto listed = runtime.list({{"slipway.owner", owner()}});
    // A failed listing is a failure, never "no containers": a check for none must be able to fail.
    if (!listed) {
      ADD_FAILURE() << "cannot list the containers: " << listed.error().message;
      return found;
    }
    for (const auto& container : *listed) found[container.name] = container.state;
    return found;
  }

  pid_t haproxy_pid() const {
    auto text = read_file(data() / "routers" / "hello-production" / "haproxy.pid");
    return text ? static_cast<pid_t>(std::atoi(text->c_str())) : 0;
  }

  // Events posted to the JSON webhook, by their "event" field, in order.
  std::vector<std::string> webhook_events() {
    std::vector<std::string> events;
    for (const auto& message : webhook_.messages()) {
      auto body = nlohmann::json::parse(message.body, nullptr, false);
      if (body.is_object()) events.push_back(body.value("event", ""));
    }
    return events;
  }

 private:
  std::string fail(const std::string& message) {
    error_ = message;
    return "";
  }

  std::filesystem::path app_dir() const { return folder_.path() / "app"; }

  bool compile_app() {
    std::filesystem::create_directories(app_dir());
    for (const char* program : {"bluegreen_app", "task_app"}) {
      if (Status compiled = compile_test_program(program, app_dir() / program); !compiled) {
        error_ = compiled.error().message;
        return false;
      }
    }
    return true;
  }

  bool write_repository() {
    std::string deploy = fmt::format("deploy:\n  health: {}\n  bake: {}\n  drain: {}\n  retain: {}\n", settings_.health,
                                     settings_.bake, settings_.drain, settings_.retain);
    if (!settings_.verify.empty()) deploy += "  verify: " + settings_.verify + "\n";
    repository_.write(".slipway.yml", !settings_.repository_file.empty()
                                          ? settings_.repository_file
                                          : "kind: application\ntest:\n  suites:\n    unit: { run: 'true' }\n"
                                            "publish:\n  image: { repository: hello }\n" + deploy);
    repository_.write("Dockerfile", "FROM scratch\n");
    repository_.commit("application");
    std::string config = fmt::format(
        "executor: host\n"
        "{}"
        "registry_poll_interval: {}\n"
        "environments:\n"
        "  production:\n"
        "    publish: manual\n"
        "    registry: {{ url: {}/prod, username: REGISTRY_USER, password: REGISTRY_PASSWORD }}\n"
        "    router: {{ listen: {}, test_listen: {} }}\n"
        "    notify: [ {{ slack: SLACK_URL }}, {{ webhook: OPS_URL }} ]\n"
        "{}"
        "repositories:\n"
        "  - {{ name: hello, url: {}, poll_interval: 0s }}\n",
        settings_.extra_config, settings_.poll_interval, registry_->address(), router_listen_, test_listen_,
        more_environments_config(), repository_.path().string());
    std::filesystem::create_directories(data());
    if (!write_file_atomically(folder_.path() / "slipway.yml", config)) {
      error_ = "cannot write slipway.yml";
      return false;
    }
    return true;
  }

  std::string more_environments_config() const {
    std::string config;
    for (const std::string& environment : settings_.more_environments) {
      config += fmt::format("  {}:\n    publish: manual\n"
                            "    registry: {{ url: {}/{}, username: REGISTRY_USER, password: REGISTRY_PASSWORD }}\n",
                            environment, registry_->address(), environment);
    }
    return config;
  }

  bool set_secrets() {
    const std::map<std::string, std::string> values = {{"REGISTRY_USER", registry_->username()},
                                                       {"REGISTRY_PASSWORD", registry_->password()},
                                                       {"SLACK_URL", slack_.url()},
                                                       {"OPS_URL", webhook_.url()}};
    std::vector<std::string> environments = {kEnvironment};
    environments.insert(environments.end(), settings_.more_environments.begin(), settings_.more_environments.end());
    for (const std::string& environment : environments) {
      for (const auto& [name, value] : values) {
        if (environment != kEnvironment && (name == "SLACK_URL" || name == "OPS_URL")) continue;
        CommandOutput set = run_with_input({SLIPWAY_BINARY, "secret", "set", "*", environment, name, "--data-dir",
                                            data().string()},
                                           value);
        if (set.exit_code != 0) {
          error_ = "slipway secret set " + name + ": " + set.err;
          return false;
        }
      }
    }
    return true;
  }


  // The server leaves HAProxy and the containers running when it stops (traffic must outlive a
  // Slipway restart), so the fixture takes them down itself.
  void cleanup_router_and_containers() {
    if (pid_t pid = haproxy_pid(); pid > 0) {
      auto command = read_file("/proc/" + std::to_string(pid) + "/cmdline");
      if (command && command->find("haproxy") != std::string::npos) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    DockerContainerRuntime runtime(DockerDaemon::kSocket);
    auto listed = runtime.list({{"slipway.owner", owner()}});
    if (listed) {
      for (const auto& container : *listed) (void)runtime.remove(container.name, true);
    }
  }

  DeploySettings settings_;
  TemporaryDirectory folder_;
  DockerDaemon daemon_;
  DockerEngine engine_;
  ChatReceiver slack_;
  ChatReceiver webhook_;
  ScratchRepository repository_;
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<ServerProcess> server_;
  std::string server_listen_, router_listen_, test_listen_;
  std::string error_;
};

}  // namespace slipway::testing
