#include "server/forge_statuses.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/http_client.h"
#include "base/time.h"
#include "notify/forge_status.h"
#include "store/events.h"
#include "store/outbox.h"
#include "store/secret_store.h"
#include "store/sqlite_database.h"
#include "store/store.h"

namespace slipway {
namespace {

constexpr const char* kCursor = "forge_statuses";
constexpr const char* kKind = "forge_status";
constexpr std::chrono::milliseconds kPollInterval{25};
constexpr int64_t kMaxBackoffMs = 5 * 60 * 1000;

std::string channel_of(const std::string& repository) { return "status:" + repository; }

std::string status_state(const std::string& job_status) {
  if (job_status == "passed") return "success";
  if (job_status == "failed") return "failure";
  if (job_status == "cancelled") return "cancelled";
  return "error";
}

// The statuses one run event asks for: the test job's while it waits and runs, every job's at
// the end (a run that failed before its first job, e.g. its fetch, as the test job's).
std::vector<CommitStatus> statuses_for(Store& store, const EventRecord& event, const RunRecord& run,
                                       const std::string& link) {
  if (event.kind == "run.queued") return {{run.commit, "pending", "slipway/test", "queued", link}};
  if (event.kind == "run.started") return {{run.commit, "running", "slipway/test", "running", link}};
  std::vector<CommitStatus> statuses;
  auto jobs = store.jobs_of_run(run.id);
  if (jobs) {
    for (const JobRecord& job : *jobs) {
      std::string words = job.reason.empty() ? (job.status == "passed" ? "passed" : job.status) : job.reason;
      statuses.push_back({run.commit, status_state(job.status), "slipway/" + job.name, status_description(words), link});
    }
  }
  if (statuses.empty()) {
    statuses.push_back({run.commit, status_state(run.status), "slipway/test", status_description(run.reason), link});
  }
  return statuses;
}

int64_t backoff_ms(int attempts) { return std::min<int64_t>(kMaxBackoffMs, int64_t{1000} << std::min(attempts, 20)); }

void record_delivery_event(Store& store, const OutboxItem& item, const CommitStatus& status, const std::string& kind,
                           const std::string& error) {
  nlohmann::json payload = {{"channel", item.channel}, {"context", status.context}, {"state", status.state},
                            {"sha", status.sha},       {"attempts", item.attempts + 1}};
  if (!error.empty()) payload["error"] = error;
  std::string repository = item.channel.substr(item.channel.find(':') + 1);
  if (auto appended = append_event(store, {0, kind, repository, 0, payload.dump(), 0}); !appended) {
    spdlog::warn("{}: {}", item.channel, appended.error().message);
  }
}

}  // namespace

ForgeStatuses::ForgeStatuses(const ServerConfig& config, std::filesystem::path database, std::string master_key)
    : config_(config), database_(std::move(database)), master_key_(std::move(master_key)) {}

ForgeStatuses::~ForgeStatuses() { stop(); }

Status ForgeStatuses::start() {
  bool wanted = std::any_of(config_.repositories.begin(), config_.repositories.end(),
                            [](const RepositoryConfig& repository) { return repository.status.has_value(); });
  if (!wanted || feeder_.joinable()) return {};
  auto store = Store::open(database_);
  if (!store) return store.error();
  auto cursor = load_outbox_cursor(**store, kCursor);
  if (!cursor) return cursor.error();
  if (*cursor < 0) {
    auto latest = latest_event_id(**store);
    if (!latest) return latest.error();
    if (Status saved = save_outbox_cursor(**store, kCursor, *latest); !saved) return saved;
  }
  stopping_ = false;
  feeder_ = std::thread([this] { feed_loop(); });
  sender_ = std::thread([this] { send_loop(); });
  return {};
}

void ForgeStatuses::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (feeder_.joinable()) feeder_.join();
  if (sender_.joinable()) sender_.join();
}

// Each pass turns the events after the cursor into rows and moves the cursor, in one
// transaction; a failed pass is tried again from the same cursor.
void ForgeStatuses::feed_loop() {
  auto store = Store::open(database_);
  if (!store) return spdlog::error("forge statuses: {}", store.error().message);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool added = false;
    Status fed = (*store)->database().transaction([&]() -> Status {
      auto cursor = load_outbox_cursor(**store, kCursor);
      if (!cursor) return cursor.error();
      auto events = list_events(**store, *cursor, 200);
      if (!events || events->empty()) return events ? Status{} : Status(events.error());
      for (const EventRecord& event : *events) {
        if (event.run_id == 0 || !event.kind.starts_with("run.")) continue;
        const RepositoryConfig* repository = config_.find_repository(event.repository);
        if (!repository || !repository->status) continue;
        auto run = (*store)->find_run(event.run_id);
        if (!run) return run.error();
        if (!*run || (*run)->commit.empty()) continue;  // a remote run before its fetch has no commit yet
        std::string link = config_.public_url.empty() ? "" : fmt::format("{}/#/runs/{}", config_.public_url, (*run)->id);
        for (const CommitStatus& status : statuses_for(**store, event, **run, link)) {
          auto item = add_outbox_item(**store, channel_of(event.repository), kKind, commit_status_json(status));
          if (!item) return item.error();
          added = true;
        }
      }
      return save_outbox_cursor(**store, kCursor, events->back().id);
    });
    if (!fed) spdlog::warn("forge statuses: {}", fed.error().message);
    lock.lock();
    if (added) {
      rows_added_ = true;
      wake_.notify_all();
    }
    wake_.wait_for(lock, kPollInterval, [&] { return stopping_; });
  }
}

void ForgeStatuses::send_loop() {
  auto store = Store::open(database_);
  if (!store) return spdlog::error("forge statuses: {}", store.error().message);
  HttpClient http;
  auto deliver = [&](const OutboxItem& item, const CommitStatus& status) -> Status {
    const RepositoryConfig* repository = config_.find_repository(item.channel.substr(item.channel.find(':') + 1));
    if (!repository || !repository->status) return make_error("the repository has no `status:` any more");
    const StatusConfig& target = *repository->status;
    auto token = SecretStore(**store, master_key_).get_server(target.token_secret);
    if (!token) return token.error();
    if (!*token) return make_error(fmt::format("server secret {} is not set", target.token_secret));
    auto answer = http.send(commit_status_request({target.provider, target.api, target.project, **token}, status));
    if (!answer) return answer.error();
    if (answer->status < 200 || answer->status > 299) {
      return make_error(fmt::format("{} answered HTTP {}", target.api, answer->status));
    }
    return {};
  };
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    int64_t now = now_ms();
    auto due = due_outbox_items(**store, now);
    if (!due) spdlog::warn("forge statuses: {}", due.error().message);
    for (const OutboxItem& item : due ? *due : std::vector<OutboxItem>{}) {
      auto status = commit_status_from_json(item.payload);
      Status sent = status ? deliver(item, *status) : Status(status.error());
      CommitStatus shown = status ? *status : CommitStatus{};
      if (sent) {
        (void)mark_outbox_delivered(**store, item.id);
        record_delivery_event(**store, item, shown, "status.delivered", "");
      } else if (now - item.created_ms >= config_.outbox_retry_for.count()) {
        spdlog::warn("{}: gave up on {} after {} attempts: {}", item.channel, shown.context, item.attempts + 1,
                     sent.error().message);
        (void)mark_outbox_failed(**store, item.id, sent.error().message);
        record_delivery_event(**store, item, shown, "status.failed", sent.error().message);
      } else {
        (void)mark_outbox_retry(**store, item.id, sent.error().message, now + backoff_ms(item.attempts));
      }
    }
    auto next = next_outbox_attempt_ms(**store);
    int64_t wait = next && *next > now_ms() ? std::min<int64_t>(*next - now_ms(), 1000) : 1000;
    lock.lock();
    if (due && !due->empty()) continue;  // the next in line may be due at once
    wake_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping_ || rows_added_; });
    rows_added_ = false;
  }
}

}  // namespace slipway
