// ChatNotices: what Slipway tells each environment's chat channels (the server config's
// `notify:` list, URLs held as secrets): every deployment step, and the CI events of runs — a
// run that failed, a publish that was done. Deliveries go through a Notifier, so a dead channel
// never holds up a deployment or a run. Run events are read from the event log (after the last
// one present at start), so the run queue knows nothing of chat. Every notice is masked with
// the secrets its repository has in that environment (base/secret_masker.h, every form) before
// it leaves: chat is outside the server, and a reason may quote what a command printed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cd/task_registry.h"
#include "notify/notifier.h"
#include "spec/server_config.h"
#include "store/deployments.h"

namespace slipway {

class ChatNotices {
 public:
  ChatNotices(const ServerConfig& config, std::filesystem::path database, std::string master_key,
              NotifierOptions options = {});
  ~ChatNotices();  // stop()s

  // Starts following the event log for run events. Error when the store cannot be opened.
  Status start();
  void stop();  // delivers what is queued within the Notifier's stop() bound; idempotent

  // The DeploymentObserver: one notice per step, to the deployment's environment's channels.
  void deployment_step(const DeploymentRecord& deployment, const DeploymentStepRecord& step);

  // One notice per image push that moved task definitions, listing each task's new revision.
  void tasks_changed(const TaskRegistryChange& change);
  // A schedule that could not start its task (no image yet, a secret not set).
  void schedule_failed(const ScheduleConfig& schedule, const std::string& error);

  Notifier& notifier();

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

// The notice for one deployment step: title "hello-app → production: traffic switched (3f2a…)".
ChatNotice deployment_notice(const DeploymentRecord& deployment, const DeploymentStepRecord& step);

}  // namespace slipway
