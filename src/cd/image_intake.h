// ImageIntake: turns stored image pushes into deployments and task-definition revisions. Pushes are stored by the registry
// webhook (or by the digest poll) before anything acts on them; this thread takes the unhandled
// ones oldest first, finds the application and environment each belongs to, and offers the
// image to the DeploymentController, which marks the push handled in the same transaction as
// the deployment it creates. A push the server dies on is therefore taken again at restart.
//
// The poll: every registry_poll_interval, the `latest` tag of each application in each
// environment with a registry is looked up; a digest never recorded becomes a push of its own
// ("poll:…"), so a dropped notification still deploys — and a digest already seen (deployed,
// rolled back) is never deployed again by the poll.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "cd/application_directory.h"
#include "cd/deployment_controller.h"
#include "cd/task_registry.h"

namespace slipway {

// The digest a registry holds for `repository:tag` (repository with its registry host:
// "127.0.0.1:5000/prod/hello-app"), nullopt when there is no such tag. Given by the server,
// which owns the registry client (cd does not depend on publish).
using TagDigestLookup = std::function<Result<std::optional<std::string>>(
    const std::string& repository, const std::string& tag, const std::optional<PullCredentials>& credentials)>;

struct ImageIntakeOptions {
  std::filesystem::path database;
  const ApplicationDirectory* directory = nullptr;   // required
  DeploymentController* controller = nullptr;        // required
  TagDigestLookup lookup;                            // optional: no poll without it
  Milliseconds poll_interval{30'000};                // 0: no poll
  std::string poll_tag = "latest";
  // Data tasks: a push that concerns task definitions registers their new revisions (and is
  // then handled); what changed is told to on_tasks_changed (one notice per push).
  const TaskRegistry* tasks = nullptr;
  std::function<void(const TaskRegistryChange&)> on_tasks_changed;
};

class ImageIntake {
 public:
  explicit ImageIntake(ImageIntakeOptions options);
  ~ImageIntake();  // stop()s

  Status start();
  void stop();     // idempotent
  // Something was stored: look now rather than at the next half second.
  void wake();
  // One pass of the poll, now (the thread also runs it every poll_interval). Returns how many
  // new digests it recorded.
  Result<int> poll_once();

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
