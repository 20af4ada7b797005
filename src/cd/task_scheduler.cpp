#include "cd/task_scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/time.h"
#include "base/worker_stop.h"
#include "spec/cron_expression.h"
#include "store/task_definitions.h"

namespace slipway {

struct TaskScheduler::Impl {
  TaskSchedulerOptions options;
  std::map<std::string, CronExpression> expressions;   // by schedule name
  std::map<std::string, int64_t> next_ms;              // by schedule name
  std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
  std::thread thread;

  explicit Impl(TaskSchedulerOptions o) : options(std::move(o)) {
    if (!options.clock) options.clock = [] { return now_ms(); };
  }
  void run();
  void fire(Store& store, const ScheduleConfig& schedule, int64_t due_ms);
};

// The pinned revision is read from the store at each firing: a new image may have moved it.
void TaskScheduler::Impl::fire(Store& store, const ScheduleConfig& schedule, int64_t due_ms) {
  int revision = 0;
  if (auto stored = list_task_schedules(store)) {
    for (const TaskScheduleRecord& record : *stored) {
      if (record.name == schedule.name) revision = record.revision;
    }
  }
  auto run = options.runner->trigger({schedule.environment, schedule.task, revision, {}, "schedule"});
  if (Status fired = record_schedule_fired(store, schedule.name, due_ms); !fired) {
    spdlog::warn("schedule {}: {}", schedule.name, fired.error().message);
  }
  if (!run) {
    spdlog::warn("schedule {}: {} in {} not started: {}", schedule.name, schedule.task, schedule.environment,
                 run.error().message);
    if (options.on_error) options.on_error(schedule, run.error().message);
    return;
  }
  spdlog::info("schedule {}: task run #{} of {} in {}", schedule.name, run->id, schedule.task, schedule.environment);
}

void TaskScheduler::Impl::run() {
  auto store = Store::open(options.database);
  if (!store) {
    spdlog::error("task schedules: {}", store.error().message);
    return;
  }
  std::unique_lock lock(mutex);
  while (!stopping) {
    int64_t now = options.clock();
    int64_t earliest = now + 1'000;
    for (const ScheduleConfig& schedule : options.config->schedules) {
      int64_t& due = next_ms[schedule.name];
      if (due == 0) due = expressions.at(schedule.name).next_after(now);
      if (due == 0) continue;  // never fires
      if (due <= now) {
        lock.unlock();
        fire(**store, schedule, due);
        lock.lock();
        due = expressions.at(schedule.name).next_after(now);
        if (due == 0) continue;
      }
      earliest = std::min(earliest, due);
    }
    int64_t pause = std::clamp<int64_t>(earliest - options.clock(), 10, 1'000);
    changed.wait_for(lock, std::chrono::milliseconds(pause), [&] { return stopping; });
  }
}

TaskScheduler::TaskScheduler(TaskSchedulerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

TaskScheduler::~TaskScheduler() { stop(); }

Status TaskScheduler::start() {
  Impl& s = *impl_;
  if (!s.options.config || !s.options.runner) return make_error("the task scheduler needs a config and a runner");
  std::vector<TaskScheduleRecord> records;
  for (const ScheduleConfig& schedule : s.options.config->schedules) {
    auto expression = CronExpression::parse(schedule.cron);
    if (!expression) return make_error("schedule " + schedule.name + ": " + expression.error().message);
    s.expressions.emplace(schedule.name, *expression);
    records.push_back({schedule.name, schedule.environment, schedule.task, schedule.cron, schedule.revision, 0});
  }
  auto store = Store::open(s.options.database);
  if (!store) return store.error();
  if (Status synced = sync_task_schedules(**store, records); !synced) return synced;
  if (records.empty()) return {};
  s.stopping = false;
  s.thread = std::thread([&s] { s.run(); });
  return {};
}

void TaskScheduler::stop() { stop_worker(impl_->mutex, impl_->changed, impl_->stopping, impl_->thread); }

}  // namespace slipway
