#include "server/forge_statuses.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "notify/forge_status.h"
#include "store/secret_store.h"
#include "store/store.h"

namespace slipway {
namespace {

constexpr const char* kKind = "forge_status";

std::string channel_of(const std::string& repository) { return "status:" + repository; }
std::string repository_of(const OutboxItem& item) { return item.channel.substr(item.channel.find(':') + 1); }

// How a job ended, in the commit status's words (notify/forge_status.h maps them to each forge's).
CommitState status_state(RunStatus job_status) {
  switch (job_status) {
    case RunStatus::passed: return CommitState::success;
    case RunStatus::failed: return CommitState::failure;
    case RunStatus::cancelled: return CommitState::cancelled;
    default: return CommitState::error;
  }
}

// Every job that ran, with its outcome; a run that ended before its first job (its fetch
// failed, it was cancelled while queued) as the test job. A skipped job never had a status. A
// store that cannot be read is an error, so the feeder tries the event again rather than report
// the run's status in place of its jobs'.
Result<std::vector<CommitStatus>> outcomes(Store& store, const RunRecord& run, const std::string& link) {
  std::vector<CommitStatus> statuses;
  auto jobs = store.jobs_of_run(run.id);
  if (!jobs) return jobs.error();
  for (const JobRecord& job : *jobs) {
    if (job.status == RunStatus::skipped) continue;
    std::string words = job.reason.empty() ? std::string(to_text(job.status)) : job.reason;
    statuses.push_back({run.commit, status_state(job.status), "slipway/" + job.name, status_description(words), link});
  }
  if (statuses.empty()) {
    statuses.push_back({run.commit, status_state(run.status), "slipway/test", status_description(run.reason), link});
  }
  return statuses;
}

// The statuses one event asks for.
Result<std::vector<CommitStatus>> statuses_for(Store& store, const EventRecord& event, const RunRecord& run,
                                               const std::string& link) {
  using Statuses = std::vector<CommitStatus>;
  if (event.kind == "run.queued") return Statuses{{run.commit, CommitState::pending, "slipway/test", "queued", link}};
  if (event.kind == "run.started") return Statuses{{run.commit, CommitState::running, "slipway/test", "running", link}};
  if (event.kind == "job.started") {
    auto payload = nlohmann::json::parse(event.payload, nullptr, false);
    std::string job = payload.is_object() ? payload.value("job", "") : "";
    if (job.empty() || job == "test") return Statuses{};
    return Statuses{{run.commit, CommitState::running, "slipway/" + job, "running", link}};
  }
  if (event.kind == "run.finished") return outcomes(store, run, link);
  return Statuses{};
}

}  // namespace

bool wants_forge_statuses(const ServerConfig& config) {
  return std::any_of(config.repositories.begin(), config.repositories.end(),
                     [](const RepositoryConfig& repository) { return repository.status.has_value(); });
}

OutboxFeeder forge_status_feeder(const ServerConfig& config) {
  return {"forge_statuses", [&config](Store& store, const EventRecord& event) -> Result<int> {
            if (event.run_id == 0 || !(event.kind.starts_with("run.") || event.kind == "job.started")) return 0;
            auto run = store.find_run(event.run_id);
            if (!run) return run.error();
            if (!*run || (*run)->commit.empty()) return 0;  // a remote run before its fetch has no commit yet
            const RepositoryConfig* repository = config.find_repository((*run)->repository);
            if (!repository || !repository->status) return 0;
            std::string link = config.public_url.empty() ? "" : fmt::format("{}/#/runs/{}", config.public_url, (*run)->id);
            auto statuses = statuses_for(store, event, **run, link);
            if (!statuses) return statuses.error();
            int added = 0;
            for (const CommitStatus& status : *statuses) {
              auto item = add_outbox_item(store, channel_of((*run)->repository), kKind, commit_status_json(status));
              if (!item) return item.error();
              ++added;
            }
            return added;
          }};
}

OutboxKind forge_status_kind(const ServerConfig& config, std::string master_key) {
  OutboxKind kind;
  kind.kind = kKind;
  kind.events = "status";
  kind.prepare = [&config, master_key = std::move(master_key)](Store& store,
                                                               const OutboxItem& item) -> Result<OutboxRequest> {
    auto status = commit_status_from_json(item.payload);
    if (!status) return status.error();
    const RepositoryConfig* repository = config.find_repository(repository_of(item));
    if (!repository || !repository->status) return make_error("the repository has no `status:` any more");
    const StatusConfig& target = *repository->status;
    auto token = SecretStore(store, master_key).get_server(target.token_secret);
    if (!token) return token.error();
    if (!*token) return make_error(fmt::format("server secret {} is not set", target.token_secret));
    return OutboxRequest{commit_status_request({target.provider, target.api, target.project, **token}, *status),
                         {**token}};
  };
  kind.describe = [](const OutboxItem& item) {
    auto status = commit_status_from_json(item.payload);
    nlohmann::json described = {{"repository", repository_of(item)}};
    if (status) {
      described.update({{"context", status->context}, {"state", status->state}, {"sha", status->sha}});
    }
    return described;
  };
  return kind;
}

}  // namespace slipway
