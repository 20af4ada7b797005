#include "server/chat_notices.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/secret_masker.h"
#include "base/strings.h"
#include "base/time.h"
#include "cd/task_registry.h"
#include "store/events.h"
#include "store/secret_store.h"
#include "store/store.h"

namespace slipway {

namespace {

// What a reader of the channel calls each state, and the notice's severity.
std::pair<std::string, std::string> step_label(DeploymentState state) {
  switch (state) {
    case DeploymentState::queued: return {"deployment queued", "info"};
    case DeploymentState::starting: return {"deployment started", "info"};
    case DeploymentState::health_checking: return {"green running", "info"};
    case DeploymentState::verifying: return {"green healthy, test traffic next", "info"};
    case DeploymentState::switching: return {"green healthy", "info"};
    case DeploymentState::baking: return {"traffic switched", "info"};
    case DeploymentState::draining: return {"bake passed", "info"};
    case DeploymentState::retiring: return {"old version drained", "info"};
    case DeploymentState::succeeded: return {"deployed; old version removed", "success"};
    case DeploymentState::rolling_back: return {"rolling back", "failure"};
    case DeploymentState::rolled_back: return {"rolled back", "failure"};
    case DeploymentState::failed: return {"deployment failed", "failure"};
    case DeploymentState::superseded: return {"superseded by a newer image", "info"};
  }
  return {"deployment failed", "failure"};
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
  auto [what, severity] = step_label(step.state);
  ChatNotice notice;
  notice.event = "deployment." + std::string(to_text(step.state));
  notice.severity = severity;
  if (deployment.kind == "rollback" && step.state == DeploymentState::succeeded) {
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
  if (!deployment.reason.empty() && (step.state == DeploymentState::rolled_back || step.state == DeploymentState::failed)) {
    notice.fields.push_back({"Reason", deployment.reason});
  }
  notice.link = "#/deployments/" + std::to_string(deployment.id);
  notice.at_ms = step.at_ms;
  return notice;
}

namespace {

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

constexpr const char* kKind = "chat_notice";

// A notice and the environment whose channels it goes to.
struct Addressed {
  std::string environment;
  ChatNotice notice;
};

// A run that failed, told to each environment it would have published to; a publish done, to
// its environment.
std::vector<Addressed> run_notices(Store& store, const EventRecord& event) {
  auto run = store.find_run(event.run_id);
  auto jobs = store.jobs_of_run(event.run_id);
  if (!run || !*run || !jobs) return {};
  const RunRecord& record = **run;
  std::string commit = record.commit.substr(0, 12);
  std::vector<Addressed> notices;
  for (const JobRecord& job : *jobs) {
    if (job.environment.empty()) continue;
    ChatNotice notice;
    notice.repository = record.repository;
    notice.environment = job.environment;
    notice.run_id = record.id;
    notice.at_ms = record.finished_ms;
    notice.link = "#/runs/" + std::to_string(record.id);
    notice.fields = {{"Run", "#" + std::to_string(record.id)}, {"Commit", commit}, {"Branch", record.branch}};
    if (job.status == RunStatus::passed) {
      notice.event = "publish.done";
      notice.severity = "success";
      notice.title = fmt::format("{}: published {} to {}", record.repository, commit, job.environment);
    } else if (record.status == RunStatus::failed) {
      notice.event = "run.failed";
      notice.severity = "failure";
      notice.title = fmt::format("{}: run #{} failed ({})", record.repository, record.id, commit);
      notice.text = record.reason.empty() ? job.reason : record.reason;
    } else {
      continue;
    }
    notices.push_back({job.environment, notice});
  }
  return notices;
}

// The step as the event recorded it: the deployment row may have moved on since.
std::vector<Addressed> deployment_notices(Store& store, const EventRecord& event, const nlohmann::json& payload) {
  auto state = deployment_state_from_text(payload.value("state", ""));
  if (!state || *state == DeploymentState::queued) return {};
  auto found = find_deployment(store, payload.value("deployment", int64_t{0}));
  if (!found || !*found) return {};
  DeploymentRecord deployment = **found;
  deployment.state = *state;
  deployment.reason = payload.value("reason", "");
  ChatNotice notice = deployment_notice(deployment, {*state, payload.value("message", ""), event.created_ms});
  return {{deployment.environment, notice}};
}

std::vector<Addressed> task_notices(const EventRecord& event, const nlohmann::json& payload) {
  TaskRegistryChange change;
  change.environment = payload.value("environment", "");
  change.repository = event.repository;
  change.image = payload.value("image", "");
  for (const auto& task : payload.value("tasks", nlohmann::json::array())) {
    if (!task.is_object()) continue;
    change.tasks.emplace_back(task.value("task", ""), task.value("revision", 0));
    if (change.digest.empty()) change.digest = task.value("digest", "");
  }
  change.deregistered = payload.value("deregistered", 0);
  change.schedules_moved = payload.value("schedules_moved", 0);
  if (change.environment.empty() || change.tasks.empty()) return {};
  ChatNotice notice = tasks_notice(change);
  notice.at_ms = event.created_ms;
  return {{change.environment, notice}};
}

std::vector<Addressed> schedule_notices(const EventRecord& event, const nlohmann::json& payload) {
  ChatNotice notice;
  notice.event = "schedule.failed";
  notice.severity = "failure";
  notice.environment = payload.value("environment", "");
  notice.title = fmt::format("schedule {}: task {} in {} did not start", payload.value("schedule", ""),
                             payload.value("task", ""), notice.environment);
  notice.text = payload.value("error", "");
  notice.at_ms = event.created_ms;
  return {{notice.environment, notice}};
}

std::vector<Addressed> notices_for(Store& store, const EventRecord& event) {
  if (event.kind == "run.finished" && event.run_id != 0) return run_notices(store, event);
  bool wanted = event.kind.starts_with("deployment.") || event.kind == "task.revisions" || event.kind == "schedule.failed";
  if (!wanted) return {};
  auto payload = nlohmann::json::parse(event.payload, nullptr, false);
  if (!payload.is_object()) return {};
  if (event.kind == "task.revisions") return task_notices(event, payload);
  if (event.kind == "schedule.failed") return schedule_notices(event, payload);
  return deployment_notices(store, event, payload);
}

const EnvironmentConfig* environment_named(const ServerConfig& config, const std::string& name) {
  for (const EnvironmentConfig& candidate : config.environments) {
    if (candidate.name == name) return &candidate;
  }
  return nullptr;
}

// One row per channel of the environment, rendered for its kind and masked with every secret
// the repository has there. A channel whose URL secret is not set is skipped, loudly (the row
// could never be delivered; setting the secret is what to do).
Result<int> add_rows(Store& store, const ServerConfig& config, const std::string& master_key, const Addressed& to) {
  const EnvironmentConfig* environment = environment_named(config, to.environment);
  if (!environment || environment->notify.empty()) return 0;
  std::string repository = to.notice.repository.empty() ? "*" : to.notice.repository;
  auto values = SecretStore(store, master_key).resolve(repository, to.environment);
  if (!values) return values.error();
  ChatNotice notice = masked(to.notice, *make_masker(*values));
  // A chat client cannot open "#/runs/2": with `public_url` the link is one people can follow.
  if (!config.public_url.empty() && notice.link.starts_with("#")) notice.link = config.public_url + "/" + notice.link;
  if (notice.at_ms == 0) notice.at_ms = now_ms();
  int added = 0;
  for (const NotifyTarget& target : environment->notify) {
    if (!values->count(target.url_secret)) {
      spdlog::warn("notifications for {}: secret {} is not set (slipway secret set '*' {} {}); the {} notice is not sent",
                   to.environment, target.url_secret, to.environment, target.url_secret, notice.event);
      continue;
    }
    nlohmann::json row = {{"secret", target.url_secret}, {"channel_kind", target.kind}, {"repository", repository},
                          {"environment", to.environment}, {"event", notice.event},
                          {"body", target.kind == "slack" ? slack_payload(notice) : webhook_payload(notice)}};
    std::string channel = "chat:" + to.environment + "/" + target.url_secret;
    auto item = add_outbox_item(store, channel, kKind, row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!item) return item.error();
    ++added;
  }
  return added;
}

}  // namespace

bool wants_chat_notices(const ServerConfig& config) {
  return std::any_of(config.environments.begin(), config.environments.end(),
                     [](const EnvironmentConfig& environment) { return !environment.notify.empty(); });
}

EventRecord schedule_failed_event(const ScheduleConfig& schedule, const std::string& error) {
  nlohmann::json payload = {{"schedule", schedule.name}, {"task", schedule.task},
                            {"environment", schedule.environment}, {"error", error}};
  return {0, "schedule.failed", "", 0, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0};
}

OutboxFeeder chat_notice_feeder(const ServerConfig& config, std::string master_key) {
  return {"chat_notices", [&config, master_key = std::move(master_key)](Store& store, const EventRecord& event) -> Result<int> {
            int added = 0;
            for (const Addressed& to : notices_for(store, event)) {
              auto rows = add_rows(store, config, master_key, to);
              if (!rows) return rows.error();
              added += *rows;
            }
            return added;
          }};
}

OutboxKind chat_notice_kind(const ServerConfig& config, std::string master_key) {
  OutboxKind kind;
  kind.kind = kKind;
  kind.events = "notice";
  kind.prepare = [&config, master_key = std::move(master_key)](Store& store,
                                                               const OutboxItem& item) -> Result<OutboxRequest> {
    auto row = nlohmann::json::parse(item.payload, nullptr, false);
    if (!row.is_object()) return make_error("not a chat notice");
    std::string environment = row.value("environment", ""), secret = row.value("secret", "");
    if (!environment_named(config, environment)) return make_error(fmt::format("no environment {} any more", environment));
    auto values = SecretStore(store, master_key).resolve(row.value("repository", "*"), environment);
    if (!values) return values.error();
    auto url = values->find(secret);
    if (url == values->end()) return make_error(fmt::format("secret {} is not set in {}", secret, environment));
    OutboxRequest request;
    request.request.method = "POST";
    request.request.url = url->second;
    request.request.headers.set("Content-Type", "application/json");
    request.request.headers.set("User-Agent", "slipway");
    request.request.body = row.value("body", "");
    request.hidden = {url->second};
    return request;
  };
  kind.describe = [](const OutboxItem& item) {
    auto row = nlohmann::json::parse(item.payload, nullptr, false);
    if (!row.is_object()) return nlohmann::json::object();
    nlohmann::json described = {{"event", row.value("event", "")}, {"environment", row.value("environment", "")}};
    if (row.value("repository", "*") != "*") described["repository"] = row.value("repository", "");
    return described;
  };
  return kind;
}

}  // namespace slipway
