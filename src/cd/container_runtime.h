// ContainerRuntime: the containers of deployed applications, data tasks and service pods —
// create on the host network, start, stop, kill, remove, inspect, list by label, wait, and logs
// line by line — as an interface, and DockerContainerRuntime, which does it on the Docker Engine
// (API v1.41 over its unix socket). Every Error names the container (or image) and quotes the
// daemon. Removal of a container already gone is success, so cleanup and recovery can repeat.
// Each call opens its own connection, so one object may be shared between threads. The
// interface is what the deployment controller's unit tests replace with a runtime that only
// remembers (tests/support/fake_deployment_world.h); everything else talks to the Engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/docker_api.h"
#include "base/result.h"
#include "base/time.h"
#include "cd/docker_stream.h"

namespace slipway {

// Sent as X-Registry-Auth when an image must be pulled from a registry that wants a login.
struct PullCredentials {
  std::string username;
  std::string password;
  std::string server_address;  // "127.0.0.1:5000"
};

// DESIGN: a deployed container runs on the host network (HostConfig.NetworkMode "host") and
// listens on 127.0.0.1:$PORT, which the deployer puts in `env`; no port mapping, no bridge. A
// test job's service containers share their pod's network instead ("container:<holder id>").
struct ContainerSpec {
  std::string name;                               // unique on the Engine
  std::string image;                              // "repo@sha256:…", "repo:tag" or an image id
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;      // slipway.application, slipway.environment, …
  int64_t memory_bytes = 0;                       // 0: no limit
  int64_t nano_cpus = 0;                          // 1e9 is one CPU; 0: no limit
  std::vector<std::string> command;               // empty: the image's ENTRYPOINT/CMD
  std::optional<PullCredentials> registry_credentials;  // for a pull, if the image is missing
  std::string network_mode = "host";              // "none", "container:<id>", …
  int64_t pids_limit = 0;                         // 0: no limit
  std::vector<std::string> cap_drop;              // "ALL", …
  bool no_new_privileges = false;                 // SecurityOpt no-new-privileges
  bool read_only_root = false;                    // ReadonlyRootfs
  std::string user;                               // "65534:65534"; empty: the image's
};

struct ContainerDetails {
  std::string id;
  std::string name;                               // without the Engine's leading '/'
  std::string state;                              // created, running, exited, dead, …
  int exit_code = 0;
  std::string health = "none";                    // healthy, unhealthy, starting; none: no HEALTHCHECK
  std::string started_at;                         // RFC 3339, as the Engine reports it
  std::map<std::string, std::string> labels;
  bool oom_killed = false;
  int64_t memory_bytes = 0;                       // HostConfig.Memory (0: no limit)
  int pid = 0;                                    // State.Pid, as this machine numbers it; 0: not running

  // The Engine's words read here, so that callers do not compare its vocabulary themselves.
  bool running() const { return state == "running"; }
  bool ended() const { return state == "exited" || state == "dead"; }
};

struct ContainerSummary {
  std::string id;
  std::string name;
  std::string state;
  std::map<std::string, std::string> labels;
};

// The X-Registry-Auth header value the Engine expects for `credentials` (base64url JSON), for a
// pull here and for anything else that asks the Engine to talk to a registry (a push in tests).
std::string registry_auth_header(const PullCredentials& credentials);

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // Makes sure `image` is on the Engine. A missing image is pulled (POST /images/create) only
  // from a registry on this machine (127.0.0.1, localhost, [::1]); any other missing image is an
  // Error ("image X is not on this Docker Engine ...").
  virtual Status ensure_image(const std::string& image, const std::optional<PullCredentials>& credentials = {}) = 0;

  // Whether the Engine holds an image of this name or id.
  virtual Result<bool> has_image(const std::string& image) = 0;

  // Every name the Engine's images go by: "repo@sha256:…" (RepoDigests) and "repo:tag" (RepoTags).
  virtual Result<std::set<std::string>> image_names() = 0;

  enum class ImageRemoval { removed, absent, in_use };
  // Removes one reference to an image (DELETE /images/{name}, never forced): the image's layers
  // go once nothing else names it. An image a container (running or stopped) still uses is
  // left alone: `in_use`, not an error.
  virtual Result<ImageRemoval> remove_image(const std::string& image) = 0;

  // Makes a one-layer image named repository:tag from a root file system tar held in memory
  // (POST /images/create?fromSrc=-): no registry is involved.
  virtual Status import_image(const std::string& repository, const std::string& tag, const std::string& rootfs_tar) = 0;

  // ensure_image, then creates the container (not started). Returns its id.
  virtual Result<std::string> create(const ContainerSpec& spec) = 0;

  // A container already running / already stopped is success.
  virtual Status start(const std::string& container) = 0;
  // SIGTERM, then SIGKILL after `grace`.
  virtual Status stop(const std::string& container, std::chrono::seconds grace) = 0;
  // A container that is not running is success.
  virtual Status kill(const std::string& container, const std::string& signal = "KILL") = 0;
  // A container already gone is success; `force` kills a running one first.
  virtual Status remove(const std::string& container, bool force = false) = 0;

  // nullopt when no container has this id or name.
  virtual Result<std::optional<ContainerDetails>> inspect(const std::string& container) = 0;

  // Every container (running or not) carrying all of these labels ("" value: any value).
  virtual Result<std::vector<ContainerSummary>> list(const std::map<std::string, std::string>& labels) = 0;

  // Blocks until the container stops; returns its exit code. `timeout` 0 waits for ever.
  virtual Result<int> wait(const std::string& container, Milliseconds timeout = Milliseconds(0)) = 0;

  // The container's output, line by line. With `follow`, goes on until the container stops or
  // on_line returns false (then the connection is dropped and that is success).
  using LogHandler = std::function<bool(LogStream stream, std::string_view line)>;
  virtual Status logs(const std::string& container, bool follow, const LogHandler& on_line) = 0;
};

// The Docker Engine's. Default arguments are the interface's.
class DockerContainerRuntime final : public ContainerRuntime {
 public:
  explicit DockerContainerRuntime(std::string socket_path = "/var/run/docker.sock");

  Status ensure_image(const std::string& image, const std::optional<PullCredentials>& credentials = {}) override;
  Result<bool> has_image(const std::string& image) override;
  Result<std::set<std::string>> image_names() override;
  Result<ImageRemoval> remove_image(const std::string& image) override;
  Status import_image(const std::string& repository, const std::string& tag, const std::string& rootfs_tar) override;
  Result<std::string> create(const ContainerSpec& spec) override;
  Status start(const std::string& container) override;
  Status stop(const std::string& container, std::chrono::seconds grace) override;
  Status kill(const std::string& container, const std::string& signal = "KILL") override;
  Status remove(const std::string& container, bool force = false) override;
  Result<std::optional<ContainerDetails>> inspect(const std::string& container) override;
  Result<std::vector<ContainerSummary>> list(const std::map<std::string, std::string>& labels) override;
  Result<int> wait(const std::string& container, Milliseconds timeout = Milliseconds(0)) override;
  Status logs(const std::string& container, bool follow, const LogHandler& on_line) override;

  const std::string& socket_path() const { return api_.socket_path(); }

 private:
  // POST to a container's action route; `ok` statuses besides 204 count as success.
  Status container_action(const std::string& container, std::string_view action_path, std::string_view verb,
                          std::vector<long> ok, Milliseconds timeout);
  Status pull_image(const std::string& image, const std::optional<PullCredentials>& credentials);

  DockerApi api_;
};

}  // namespace slipway
