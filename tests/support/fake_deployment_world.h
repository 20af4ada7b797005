// FakeDeploymentWorld: what a deployment acts on, kept in memory so that the deployment
// controller's unit tests run every state and every crash point in milliseconds, beside the real
// dockerd + HAProxy acceptance tests (tests/acceptance/deployment_test.cpp).
//
//   FakeContainerRuntime   a ContainerRuntime whose containers are map entries; a started one
//                          serves real HTTP on 127.0.0.1:$PORT from an in-process thread (its
//                          health answer set per image), so the real HealthGate checks it.
//   FakeRouter             a TrafficRouter that remembers each backend's slots (port, admin
//                          state); its "process" outlives the router object as a real HAProxy
//                          outlives a restarted Slipway, so a new router adopts it.
//   calls()                every action in order ("start slipway-app-1", "switch production
//                          green"...); on_call, when set, sees each one as it happens — the
//                          tests' crash points hang off it.
//   set_killed(true)       Slipway "died": every call fails and changes nothing until
//                          set_killed(false) (the restart), while what exists stays as it was.
// Thread-safe: the deployment's thread acts while the test's thread reads.
#pragma once

#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cd/container_runtime.h"
#include "cd/traffic_router.h"

namespace slipway::testing {

// Answers every HTTP request on 127.0.0.1:port with `status()` until destroyed.
class HealthResponder {
 public:
  HealthResponder(int port, std::function<int()> status) : status_(std::move(status)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0) {
      if (listener_ >= 0) ::close(listener_);
      throw std::runtime_error("HealthResponder: cannot listen on 127.0.0.1:" + std::to_string(port));
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~HealthResponder() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
  }
  HealthResponder(const HealthResponder&) = delete;
  HealthResponder& operator=(const HealthResponder&) = delete;

 private:
  void serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 5) <= 0) continue;
      int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      char buffer[2048];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        request.append(buffer, static_cast<size_t>(got));
      }
      int status = status_();
      std::string answer = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      (void)::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  std::function<int()> status_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class FakeDeploymentWorld {
 public:
  struct Container {
    ContainerSpec spec;
    std::string state = "created";  // the Engine's words: created, running, exited
  };
  struct Slot {
    int port = 0;
    SlotAdminState admin = SlotAdminState::maint;
  };

  // Every action so far, in order.
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::map<std::string, Container> containers() const {
    std::lock_guard lock(mutex_);
    return containers_;
  }
  // "production" → "green" → slot; empty until the router set it.
  std::map<std::string, std::map<std::string, Slot>> backends() const {
    std::lock_guard lock(mutex_);
    return backends_;
  }
  // The production port that takes traffic: the one ready slot's; 0 when none or two are.
  int live_port() const {
    std::lock_guard lock(mutex_);
    int port = 0, ready = 0;
    auto found = backends_.find(kProductionBackend);
    if (found == backends_.end()) return 0;
    for (const auto& [name, slot] : found->second) {
      if (slot.admin == SlotAdminState::ready) port = slot.port, ++ready;
    }
    return ready == 1 ? port : 0;
  }
  void set_killed(bool killed) { killed_ = killed; }
  bool killed() const { return killed_; }
  bool router_running() const {
    std::lock_guard lock(mutex_);
    return router_running_;
  }
  // The HTTP status containers of `image` answer with (200 by default).
  void set_health(const std::string& image, int status) {
    std::lock_guard lock(mutex_);
    health_[image] = status;
  }
  // Called (without the world's lock) after each action is recorded.
  void on_call(std::function<void(const std::string& call)> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }

  // For the fakes.
  void record(const std::string& call) {
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(call);
      hook = hook_;
    }
    if (hook) hook(call);
  }
  int health_of(const std::string& image) const {
    std::lock_guard lock(mutex_);
    auto found = health_.find(image);
    return found == health_.end() ? 200 : found->second;
  }
  template <typename Change>
  auto change(Change&& change) {
    std::lock_guard lock(mutex_);
    return change(containers_, backends_, router_running_);
  }
  // The responders of running containers live beside the world's lock, never under it: a
  // responder's thread asks health_of() while it answers.
  void serve(const std::string& name, int port, const std::string& image) {
    auto responder = std::make_unique<HealthResponder>(port, [this, image] { return health_of(image); });
    std::lock_guard lock(responders_mutex_);
    responders_[name] = std::move(responder);
  }
  void stop_serving(const std::string& name) {
    std::unique_ptr<HealthResponder> gone;
    {
      std::lock_guard lock(responders_mutex_);
      auto found = responders_.find(name);
      if (found == responders_.end()) return;
      gone = std::move(found->second);
      responders_.erase(found);
    }
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> calls_;
  std::map<std::string, Container> containers_;
  std::map<std::string, std::map<std::string, Slot>> backends_;
  bool router_running_ = false;
  std::map<std::string, int> health_;
  std::function<void(const std::string&)> hook_;
  std::atomic<bool> killed_{false};
  std::mutex responders_mutex_;
  std::map<std::string, std::unique_ptr<HealthResponder>> responders_;
};

class FakeContainerRuntime final : public ContainerRuntime {
 public:
  explicit FakeContainerRuntime(FakeDeploymentWorld& world) : world_(world) {}

  Status ensure_image(const std::string&, const std::optional<PullCredentials>& = {}) override { return {}; }
  Result<bool> has_image(const std::string& image) override { return image_names()->count(image) > 0; }
  Result<std::set<std::string>> image_names() override {
    std::set<std::string> names;
    for (const auto& [name, container] : world_.containers()) names.insert(container.spec.image);
    return names;
  }
  Result<ImageRemoval> remove_image(const std::string& image) override {
    return has_image(image).value() ? ImageRemoval::in_use : ImageRemoval::absent;
  }
  Status import_image(const std::string&, const std::string&, const std::string&) override { return {}; }

  Result<std::string> create(const ContainerSpec& spec) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    bool made = world_.change([&](auto& containers, auto&, bool) {
      return containers.emplace(spec.name, FakeDeploymentWorld::Container{spec, "created"}).second;
    });
    if (!made) return make_error(ErrorKind::conflict, "Conflict. The container name \"/" + spec.name + "\" is already in use");
    world_.record("create " + spec.name);
    return spec.name;
  }
  Status start(const std::string& container) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    std::optional<ContainerSpec> spec = world_.change([&](auto& containers, auto&, bool) -> std::optional<ContainerSpec> {
      auto found = containers.find(container);
      if (found == containers.end() || found->second.state == "running") return std::nullopt;
      found->second.state = "running";
      return found->second.spec;
    });
    if (spec) world_.serve(container, std::stoi(spec->env.at("PORT")), spec->image);
    if (!spec && !inspect(container).value()) return make_error(ErrorKind::not_found, "No such container: " + container);
    world_.record("start " + container);
    return {};
  }
  Status stop(const std::string& container, std::chrono::seconds) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    set_state(container, "exited");
    world_.record("stop " + container);
    return {};
  }
  Status kill(const std::string& container, const std::string&) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    set_state(container, "exited");
    world_.record("kill " + container);
    return {};
  }
  Status remove(const std::string& container, bool) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    world_.stop_serving(container);
    world_.change([&](auto& containers, auto&, bool) { return containers.erase(container); });
    world_.record("remove " + container);
    return {};
  }
  Result<std::optional<ContainerDetails>> inspect(const std::string& container) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    auto all = world_.containers();
    auto found = all.find(container);
    if (found == all.end()) return std::optional<ContainerDetails>();
    ContainerDetails details;
    details.id = details.name = container;
    details.state = found->second.state;
    details.labels = found->second.spec.labels;
    return std::optional<ContainerDetails>(details);
  }
  Result<std::vector<ContainerSummary>> list(const std::map<std::string, std::string>& labels) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    std::vector<ContainerSummary> matching;
    for (const auto& [name, container] : world_.containers()) {
      bool all = true;
      for (const auto& [key, value] : labels) {
        auto found = container.spec.labels.find(key);
        all = all && found != container.spec.labels.end() && (value.empty() || found->second == value);
      }
      if (all) matching.push_back({name, name, container.state, container.spec.labels});
    }
    return matching;
  }
  Result<int> wait(const std::string&, Milliseconds) override { return 0; }
  Status logs(const std::string&, bool, const LogHandler&) override { return {}; }

 private:
  void set_state(const std::string& container, const std::string& state) {
    world_.stop_serving(container);
    world_.change([&](auto& containers, auto&, bool) {
      auto found = containers.find(container);
      if (found != containers.end()) found->second.state = state;
      return 0;
    });
  }

  FakeDeploymentWorld& world_;
};

class FakeRouter final : public TrafficRouter {
 public:
  explicit FakeRouter(FakeDeploymentWorld& world) : world_(world) {}

  Status start() override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    world_.change([](auto&, auto&, bool& running) { return running = true; });
    world_.record("router start");
    return {};
  }
  pid_t pid() const override {
    return world_.change([](auto&, auto&, bool running) { return running ? 4242 : 0; });
  }
  Status set_slot(std::string_view backend, std::string_view slot, int port) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    world_.change([&](auto&, auto& backends, bool) { return backends[std::string(backend)][std::string(slot)].port = port; });
    world_.record("slot " + std::string(backend) + " " + std::string(slot) + " " + std::to_string(port));
    return {};
  }
  Status switch_to(std::string_view backend, std::string_view slot) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    world_.change([&](auto&, auto& backends, bool) {
      auto& slots = backends[std::string(backend)];
      slots[std::string(slot)].admin = SlotAdminState::ready;
      slots[std::string(other_slot(slot))].admin = SlotAdminState::drain;
      return 0;
    });
    world_.record("switch " + std::string(backend) + " " + std::string(slot));
    return {};
  }
  Status set_state(std::string_view backend, std::string_view slot, SlotAdminState state) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    world_.change([&](auto&, auto& backends, bool) { return backends[std::string(backend)][std::string(slot)].admin = state; });
    world_.record("state " + std::string(backend) + " " + std::string(slot) + " " + std::string(to_string(state)));
    return {};
  }
  Result<int> open_sessions(std::string_view, std::string_view) override {
    if (world_.killed()) return make_error(ErrorKind::unavailable, "Slipway was killed");
    return 0;
  }

 private:
  FakeDeploymentWorld& world_;
};

}  // namespace slipway::testing
