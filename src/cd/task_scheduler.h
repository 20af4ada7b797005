// TaskScheduler: the cron schedules of the server configuration. Each schedule triggers its
// task (its pinned revision, or the active one) through the TaskRunner when its cron expression
// comes due, in UTC; the time it last fired is stored, so a restart neither repeats a run that
// already happened nor catches up on ones missed while the server was down (like cron: a missed
// minute is skipped). A trigger that fails (no image yet, a secret unset) is logged and told to
// on_error; the schedule goes on.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "cd/task_runner.h"
#include "spec/server_config.h"

namespace slipway {

struct TaskSchedulerOptions {
  std::filesystem::path database;
  const ServerConfig* config = nullptr;   // required: its `schedules`
  TaskRunner* runner = nullptr;           // required
  std::function<void(const ScheduleConfig&, const std::string& error)> on_error;
  // Unix ms "now"; a test passes a clock that runs faster than the wall's, so that minutes of
  // cron pass in a moment. The thread wakes at least every second to read it.
  std::function<int64_t()> clock;
};

class TaskScheduler {
 public:
  explicit TaskScheduler(TaskSchedulerOptions options);
  ~TaskScheduler();  // stop()s

  // Stores the configured schedules (keeping moved pins) and starts the timer thread. Error:
  // the store, or a cron expression that does not parse (the config parser checks them first).
  Status start();
  void stop();  // idempotent

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
