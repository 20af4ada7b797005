// DeploymentController: blue/green deployments of applications, one at a time per application
// and environment, each a durable state machine (store/deployments.h) whose state is written
// before its action is taken. Actions are idempotent, so start() after a crash resumes every
// unfinished deployment from its written state by repeating that state's action: a green half
// made is made again, a switch is finished, a rollback completes (green removed, traffic on the
// version before). Traffic always stays on a healthy version; containers no deployment accounts
// for are removed; a router that outlived the server is adopted as it is. Thread-safe.
//
// Each application and environment is a lane (cd/deployment_lane.h) with its own thread and
// router. The container runtime and the router are interfaces (ContainerRuntime, TrafficRouter):
// the server gives the Docker Engine and HAProxy; unit tests give fakes that only remember
// (tests/unit/deployment_states_test.cpp drives every state and crash point through them).
//
// States, in order: queued → starting (green created with $PORT and its secrets) →
// health_checking (N consecutive successes) → verifying (test listener + deploy.verify, when
// configured) → switching (production listener to green, runtime API) → baking (green watched)
// → draining (blue's open requests finish, up to `drain`) → retiring (blue stopped; containers
// beyond `retain` removed) → succeeded. Any failure goes through rolling_back to rolled_back
// (traffic on blue, green removed) or failed (nothing to return to). A newer image supersedes a
// deployment that is queued or has not reached switching; a switch is never interrupted.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "cd/container_runtime.h"
#include "cd/traffic_router.h"
#include "cd/verify_command.h"
#include "spec/repository_spec.h"
#include "spec/server_config.h"
#include "store/deployments.h"

namespace slipway {

// Everything a deployment of one application to one environment needs, resolved when it starts
// (secrets are never stored with the deployment: they are resolved again after a restart).
struct ApplicationTarget {
  std::string application;
  std::string environment;
  std::string image_repository;                     // "127.0.0.1:5000/prod/hello-app"
  DeploySpec deploy;
  RouterConfig router;
  std::optional<PullCredentials> credentials;   // to pull from the environment's registry
  std::map<std::string, std::string> secrets;       // deploy.secrets: name → value, into the container
};

using TargetResolver =
    std::function<Result<ApplicationTarget>(const std::string& application, const std::string& environment)>;

// Called after each state is written (from the deployment's thread; must not block for long).
using DeploymentObserver = std::function<void(const DeploymentRecord& deployment, const DeploymentStepRecord& step)>;

struct ImageOffer {
  std::string application;
  std::string environment;
  std::string image;           // full reference with digest: "127.0.0.1:5000/prod/hello-app@sha256:…"
  std::string digest;
  std::string tag;
  std::string push_event_id;   // the image push this comes from, marked handled with the deployment
};

struct DeploymentControllerOptions {
  std::filesystem::path database;            // the server's store
  std::filesystem::path routers_directory;   // DATA/routers: one HAProxy directory per APP-ENV
  ContainerRuntime* containers = nullptr;    // required
  TargetResolver resolve;                    // required
  DeploymentObserver observe;                // optional
  Milliseconds start_timeout{60'000};        // a green that never answers fails after this
  Milliseconds verify_timeout{300'000};      // deploy.verify is stopped after this
  VerifySandboxFactory verify_sandbox;       // where deploy.verify runs; empty: unsandboxed (tests only)
  TrafficRouterFactory make_router;          // empty: an HaproxyRouter per lane (the server's choice)
  // Labels this server's containers (slipway.owner), so that orphan cleanup never touches the
  // containers of another server sharing the Docker Engine. The data directory is a good value.
  std::string owner;
};

class DeploymentController {
 public:
  explicit DeploymentController(DeploymentControllerOptions options);
  ~DeploymentController();  // stop()s

  // Recovery (see above), then ready for offers. Error when the store cannot be read.
  Status start();
  // Stops every deployment thread at its next check: a deployment in flight keeps its written
  // state (and containers) for the next start() to resume. Idempotent.
  void stop();

  // A new image for an application's environment. Returns the new deployment's id, or nullopt
  // when that digest is already live, queued or being deployed there (the push is then marked
  // handled all the same). Supersedes a queued or not-yet-switched deployment of another digest.
  Result<std::optional<int64_t>> offer(const ImageOffer& offer);

  // Back to the version before the live one (`slipway deploy rollback`): a deployment of kind
  // "rollback" of the previous succeeded image, reusing its retained container when there is
  // one. Errors: nothing is live, no earlier version, or a deployment is switching right now.
  Result<int64_t> rollback(const std::string& application, const std::string& environment,
                           const std::string& reason = "requested");

  // Waits until no deployment of that application and environment is active, up to `timeout`.
  bool wait_idle(const std::string& application, const std::string& environment, Milliseconds timeout);

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
