#include "server/chat_notices.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/secret_masker.h"
#include "base/strings.h"
#include "base/time.h"
#include "store/events.h"
#include "store/secret_store.h"
#include "store/store.h"

namespace slipway {

namespace {

// What a reader of the channel calls each state.
const std::map<std::string, std::pair<std::string, std::string>>& step_labels() {
  static const std::map<std::string, std::pair<std::string, std::string>> labels = {
      {"starting", {"deployment started", "info"}},
      {"health_checking", {"green running", "info"}},
      {"verifying", {"green healthy, test traffic next", "info"}},
      {"switching", {"green healthy", "info"}},
      {"baking", {"traffic switched", "info"}},
      {"draining", {"bake passed", "info"}},
      {"retiring", {"old version drained", "info"}},
      {"succeeded", {"deployed; old version removed", "success"}},
      {"rolling_back", {"rolling back", "failure"}},
      {"rolled_back", {"rolled back", "failure"}},
      {"failed", {"deployment failed", "failure"}},
      {"superseded", {"superseded by a newer image", "info"}},
  };
  return labels;
}

std::string version_of(const DeploymentRecord& deployment) {
  return deployment.tag.empty() ? short_digest(deployment.digest) : deployment.tag;
}

// Every text a reader sees, masked (the link and ids are Slipway's own).
ChatNotice masked(ChatNotice notice, const SecretMasker& masker) {
  if (masker.empty()) return notice;
  notice.title = masker.mask(notice.title);
  notice.text = masker.mask(notice.text);
  for (auto& [name, value] : notice.fields) value = masker.mask(value);
  return notice;
}

}  // namespace

ChatNotice deployment_notice(const DeploymentRecord& deployment, const DeploymentStepRecord& step) {
  auto label = step_labels().find(step.state);
  std::string what = label != step_labels().end() ? label->second.first : step.state;
  ChatNotice notice;
  notice.event = "deployment." + step.state;
  notice.severity = label != step_labels().end() ? label->second.second : "info";
  if (deployment.kind == "rollback" && step.state == "succeeded") {
    what = "rolled back to this version";
    notice.severity = "success";
  }
  notice.title = fmt::format("{} → {}: {} ({})", deployment.application, deployment.environment, what,
                             version_of(deployment));
  notice.text = step.message;
  notice.repository = deployment.application;
  notice.environment = deployment.environment;
  notice.deployment_id = deployment.id;
  notice.fields = {{"Deployment", "#" + std::to_string(deployment.id) + (deployment.kind == "rollback" ? " (rollback)" : "")},
                   {"Image", deployment.image}};
  if (!deployment.reason.empty() && (step.state == "rolled_back" || step.state == "failed")) {
    notice.fields.push_back({"Reason", deployment.reason});
  }
  notice.link = "#/deployments/" + std::to_string(deployment.id);
  notice.at_ms = step.at_ms;
  return notice;
}

ChatNotice tasks_notice(const TaskRegistryChange& change) {
  ChatNotice notice;
  notice.event = "tasks.revised";
  notice.severity = "success";
  notice.title = fmt::format("{} → {}: {} task definition{} at image {}", change.repository, change.environment,
                             change.tasks.size(), change.tasks.size() == 1 ? "" : "s", short_digest(change.digest));
  std::string listed;
  size_t shown = 0;
  for (const auto& [task, revision] : change.tasks) {
    if (shown++ == 20) {
      listed += fmt::format(", and {} more", change.tasks.size() - 20);
      break;
    }
    listed += fmt::format("{}{} r{}", listed.empty() ? "" : ", ", task, revision);
  }
  notice.text = listed;
  notice.repository = change.repository;
  notice.environment = change.environment;
  notice.fields = {{"Image", change.image + "@" + change.digest}};
  if (!change.tag.empty()) notice.fields.push_back({"Tag", change.tag});
  if (change.deregistered > 0) notice.fields.push_back({"Deregistered", std::to_string(change.deregistered) + " old revisions"});
  if (change.schedules_moved > 0) notice.fields.push_back({"Schedules moved", std::to_string(change.schedules_moved)});
  notice.link = "#/tasks";
  notice.at_ms = now_ms();
  return notice;
}

struct ChatNotices::Impl {
  const ServerConfig& config;
  std::filesystem::path database;
  std::string master_key;
  Notifier notifier;
  std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
  std::thread follower;

  Impl(const ServerConfig& c, std::filesystem::path d, std::string k, NotifierOptions o)
      : config(c), database(std::move(d)), master_key(std::move(k)), notifier(o) {}

  // Where a notice about `repository` in `environment` goes, and what it must not show.
  struct Audience {
    std::vector<ChatChannel> channels;              // empty: none configured, or unresolvable
    std::shared_ptr<const SecretMasker> masker;     // every secret of the repository there
  };
  Audience audience(const std::string& repository, const std::string& environment);
  // Sends `notice` to the environment's channels, masked with every secret the repository has
  // there: a reason or a step may quote a command's output, and chat is outside the server.
  void deliver(const std::string& repository, const std::string& environment, const ChatNotice& notice);
  void follow_runs(int64_t after_id);
  void run_finished(Store& store, const EventRecord& event);
};

// The environment's notify targets with their URLs from the secret store (the repository's own
// value first, then the environment-wide one). A target whose secret is unset is skipped, loudly.
ChatNotices::Impl::Audience ChatNotices::Impl::audience(const std::string& repository,
                                                        const std::string& environment) {
  Audience audience;
  std::vector<ChatChannel>& channels = audience.channels;
  const EnvironmentConfig* found = nullptr;
  for (const EnvironmentConfig& candidate : config.environments) {
    if (candidate.name == environment) found = &candidate;
  }
  if (!found || found->notify.empty()) return audience;
  auto store = Store::open(database);
  if (!store) {
    spdlog::warn("notifications for {}: {}", environment, store.error().message);
    return audience;
  }
  SecretStore secrets(**store, master_key);
  auto values = secrets.resolve(repository.empty() ? "*" : repository, environment);
  if (!values) {
    spdlog::warn("notifications for {}: {}", environment, values.error().message);
    return audience;
  }
  audience.masker = make_masker(*values);
  for (const NotifyTarget& target : found->notify) {
    auto url = values->find(target.url_secret);
    if (url == values->end()) {
      spdlog::warn("notifications for {}: secret {} is not set (slipway secret set '*' {} {})", environment,
                   target.url_secret, environment, target.url_secret);
      continue;
    }
    channels.push_back({target.kind, url->second, target.url_secret});
  }
  return audience;
}

void ChatNotices::Impl::deliver(const std::string& repository, const std::string& environment,
                                const ChatNotice& notice) {
  Audience to = audience(repository, environment);
  if (to.channels.empty()) return;
  ChatNotice sent = masked(notice, *to.masker);
  // A chat client cannot open "#/runs/2": with `public_url` the link is one people can follow.
  if (!config.public_url.empty() && sent.link.starts_with("#")) sent.link = config.public_url + "/" + sent.link;
  notifier.send(to.channels, sent);
}

void ChatNotices::Impl::run_finished(Store& store, const EventRecord& event) {
  auto run = store.find_run(event.run_id);
  auto jobs = store.jobs_of_run(event.run_id);
  if (!run || !*run || !jobs) return;
  const RunRecord& record = **run;
  std::string commit = record.commit.substr(0, 12);
  for (const JobRecord& job : *jobs) {
    if (job.environment.empty()) continue;
    ChatNotice notice;
    notice.repository = record.repository;
    notice.environment = job.environment;
    notice.run_id = record.id;
    notice.at_ms = record.finished_ms;
    notice.link = "#/runs/" + std::to_string(record.id);
    notice.fields = {{"Run", "#" + std::to_string(record.id)}, {"Commit", commit}, {"Branch", record.branch}};
    if (job.status == "passed") {
      notice.event = "publish.done";
      notice.severity = "success";
      notice.title = fmt::format("{}: published {} to {}", record.repository, commit, job.environment);
    } else if (record.status == "failed") {
      notice.event = "run.failed";
      notice.severity = "failure";
      notice.title = fmt::format("{}: run #{} failed ({})", record.repository, record.id, commit);
      notice.text = record.reason.empty() ? job.reason : record.reason;
    } else {
      continue;
    }
    deliver(record.repository, job.environment, notice);
  }
}

void ChatNotices::Impl::follow_runs(int64_t after_id) {
  auto store = Store::open(database);
  if (!store) return;
  std::unique_lock lock(mutex);
  while (!stopping) {
    lock.unlock();
    auto events = list_events(**store, after_id, 200);
    if (events) {
      for (const EventRecord& event : *events) {
        after_id = event.id;
        if (event.kind == "run.finished" && event.run_id != 0) run_finished(**store, event);
      }
    }
    lock.lock();
    changed.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping; });
  }
}

ChatNotices::ChatNotices(const ServerConfig& config, std::filesystem::path database, std::string master_key,
                         NotifierOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(database), std::move(master_key), options)) {}

ChatNotices::~ChatNotices() { stop(); }

Status ChatNotices::start() {
  auto store = Store::open(impl_->database);
  if (!store) return store.error();
  // Only what happens from now on: a restart does not repeat old news.
  auto last = latest_event_id(**store);
  if (!last) return last.error();
  impl_->stopping = false;
  impl_->follower = std::thread([this, after = *last] { impl_->follow_runs(after); });
  return {};
}

void ChatNotices::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  if (impl_->follower.joinable()) impl_->follower.join();
  impl_->notifier.stop();
}

void ChatNotices::deployment_step(const DeploymentRecord& deployment, const DeploymentStepRecord& step) {
  if (step.state == "queued") return;
  impl_->deliver(deployment.application, deployment.environment, deployment_notice(deployment, step));
}

void ChatNotices::tasks_changed(const TaskRegistryChange& change) {
  impl_->deliver(change.repository, change.environment, tasks_notice(change));
}

void ChatNotices::schedule_failed(const ScheduleConfig& schedule, const std::string& error) {
  ChatNotice notice;
  notice.event = "schedule.failed";
  notice.severity = "failure";
  notice.title = fmt::format("schedule {}: task {} in {} did not start", schedule.name, schedule.task, schedule.environment);
  notice.text = error;
  notice.environment = schedule.environment;
  notice.at_ms = now_ms();
  impl_->deliver("", schedule.environment, notice);
}

Notifier& ChatNotices::notifier() { return impl_->notifier; }

}  // namespace slipway
