#include "cd/docker_pods.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/crypto.h"
#include "cd/container_names.h"
#include "cd/pause_image.h"
#include "ci/proc_table.h"

namespace slipway {

namespace {

constexpr const char* kPodLabel = "slipway.pod";
constexpr const char* kProcessLabel = "slipway.pod-process";
constexpr const char* kServiceLabel = "slipway.service";
constexpr const char* kNobody = "65534:65534";

std::atomic<int> pod_counter{0};

// "<pid>.<start time>": a process, told apart from a later one that reuses its pid.
std::string process_identity(pid_t pid) {
  auto entry = read_process(pid);
  return entry && !entry->zombie() ? fmt::format("{}.{}", pid, entry->start_time) : "";
}

bool identity_alive(const std::string& identity) {
  pid_t pid = static_cast<pid_t>(std::atoi(identity.c_str()));
  return pid > 0 && process_identity(pid) == identity;
}

// A service container: its output follows into the sink from a thread of its own, and stopping
// it removes it, so a container never outlives its process object.
class ServiceContainer : public BackgroundProcess {
 public:
  ServiceContainer(ContainerRuntime& runtime, std::string id, OutputSink& sink)
      : runtime_(runtime), id_(std::move(id)) {
    follower_ = std::thread([this, &sink] {
      // Ends when the container stops (or is removed): the Engine closes the stream.
      Status followed = runtime_.logs(id_, true, [&sink](LogStream stream, std::string_view line) {
        std::string text = std::string(line) + "\n";
        sink.on_output(stream == LogStream::err ? OutputStream::err : OutputStream::out, text);
        return true;
      });
      if (!followed) spdlog::warn("service container {}: {}", id_, followed.error().message);
    });
  }

  ~ServiceContainer() override { stop(Milliseconds(5000)); }

  bool running() override {
    auto details = runtime_.inspect(id_);
    return details && *details && (*details)->running();
  }

  void stop(Milliseconds grace) override {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    auto seconds = std::chrono::seconds(static_cast<int64_t>(std::ceil(grace.count() / 1000.0)));
    if (Status stopped = runtime_.stop(id_, seconds); !stopped) spdlog::warn("{}", stopped.error().message);
    if (Status removed = runtime_.remove(id_, true); !removed) spdlog::warn("{}", removed.error().message);
    if (follower_.joinable()) follower_.join();
  }

 private:
  ContainerRuntime& runtime_;
  std::string id_;
  std::thread follower_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

class DockerPod : public ContainerPod {
 public:
  DockerPod(ContainerRuntime& runtime, std::string name, std::map<std::string, std::string> labels)
      : runtime_(runtime), name_(std::move(name)), labels_(std::move(labels)) {}

  // Services first (they live in the holder's namespace), the holder last.
  ~DockerPod() override {
    for (auto it = containers_.rbegin(); it != containers_.rend(); ++it) {
      if (Status removed = runtime_.remove(*it, true); !removed) spdlog::warn("{}", removed.error().message);
    }
  }

  Status start_holder() {
    auto image = ensure_pause_image(runtime_);
    if (!image) return make_error(fmt::format("cannot make the pod holder's image: {}", image.error().message));
    ContainerSpec holder;
    holder.name = name_;
    holder.image = *image;
    holder.command = {"/pause"};
    holder.labels = labels_;
    holder.network_mode = "none";
    holder.cap_drop = {"ALL"};
    holder.no_new_privileges = true;
    holder.read_only_root = true;
    holder.user = kNobody;
    auto id = runtime_.create(holder);
    if (!id) return id.error();
    containers_.push_back(*id);
    if (Status started = runtime_.start(*id); !started) return started;
    auto details = runtime_.inspect(*id);
    if (!details) return details.error();
    if (!*details || (*details)->pid <= 0) {
      return make_error(fmt::format("the pod holder {} is not running after its start", name_));
    }
    network_pid_ = (*details)->pid;
    return {};
  }

  pid_t network_pid() const override { return network_pid_; }

  Result<std::unique_ptr<BackgroundProcess>> start_service(const ServiceContainerRequest& request,
                                                           OutputSink& sink) override {
    ContainerSpec service;
    service.name = fmt::format("{}-{}", name_, request.name);
    service.image = request.image;
    service.env = request.env;
    service.labels = labels_;
    service.labels[kServiceLabel] = request.name;
    service.network_mode = "container:" + containers_.front();
    service.no_new_privileges = true;
    service.memory_bytes = request.limits.memory_bytes;
    service.pids_limit = request.limits.pids;
    service.nano_cpus = static_cast<int64_t>(request.limits.cpus * 1e9);
    auto id = runtime_.create(service);
    if (!id) return id.error();
    containers_.push_back(*id);
    if (Status started = runtime_.start(*id); !started) return started.error();
    return std::unique_ptr<BackgroundProcess>(std::make_unique<ServiceContainer>(runtime_, *id, sink));
  }

 private:
  ContainerRuntime& runtime_;
  std::string name_;
  std::map<std::string, std::string> labels_;
  std::vector<std::string> containers_;  // ids, the holder first
  pid_t network_pid_ = 0;
};

}  // namespace

DockerPods::DockerPods(ContainerRuntime& runtime, std::string owner) : runtime_(runtime), owner_(std::move(owner)) {}

Result<std::unique_ptr<ContainerPod>> DockerPods::open() {
  std::string name = engine_container_name({"pod", std::to_string(::getpid()), std::to_string(++pod_counter), to_hex(random_bytes(3))});
  std::map<std::string, std::string> labels = {
      {"slipway.owner", owner_}, {kPodLabel, name}, {kProcessLabel, process_identity(::getpid())}};
  auto pod = std::make_unique<DockerPod>(runtime_, name, labels);
  if (Status started = pod->start_holder(); !started) {
    return make_error(fmt::format("cannot start the job's container pod: {}", started.error().message));
  }
  return std::unique_ptr<ContainerPod>(std::move(pod));
}

Status DockerPods::remove_leftovers() {
  auto labelled = runtime_.list({{"slipway.owner", owner_}, {kPodLabel, ""}});
  if (!labelled) return labelled.error();
  // Services before holders: a holder's namespace is theirs.
  std::stable_sort(labelled->begin(), labelled->end(), [](const ContainerSummary& a, const ContainerSummary& b) {
    return a.labels.count(kServiceLabel) > b.labels.count(kServiceLabel);
  });
  for (const ContainerSummary& container : *labelled) {
    auto process = container.labels.find(kProcessLabel);
    if (process != container.labels.end() && identity_alive(process->second)) continue;
    spdlog::info("removing container {}: the process that started its test job is gone", container.name);
    if (Status removed = runtime_.remove(container.id, true); !removed) {
      spdlog::warn("removing leftover container {}: {}", container.name, removed.error().message);
    }
  }
  return {};
}

}  // namespace slipway
