// TaskRunStatus: where one run of a data task stands. Text only at the edges — the task_runs
// table, the "task.run.<status>" events, the JSON API and the CLI's output (to_text /
// task_run_status_from_text); everywhere else compared as this enum.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace slipway {

enum class TaskRunStatus {
  queued,       // recorded, waiting for its container to start
  running,
  succeeded,    // final: exited 0
  failed,       // final: exited non-zero, was killed, or could not start
  timed_out,    // final: stopped at the task's timeout
  interrupted,  // final: the server stopped while it ran
};

// "queued", "timed_out"...: the text the store, events and API carry.
std::string_view to_text(TaskRunStatus status);
// nullopt for a text that names no status.
std::optional<TaskRunStatus> task_run_status_from_text(std::string_view text);
// Anything but queued and running.
bool is_finished(TaskRunStatus status);

std::ostream& operator<<(std::ostream& out, TaskRunStatus status);  // as to_text: for test messages
// As to_text, so that {"status", record.status} in a JSON answer is the text, never the number.
void to_json(nlohmann::json& json, TaskRunStatus status);

}  // namespace slipway
