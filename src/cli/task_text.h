// How `slipway task` prints data tasks for people: the task list, one task with its latest runs
// and schedules, the revision and run tables, and a run's log lines. Colour only when asked (a
// TTY); the --json output is server/task_json.h's shape instead.
#pragma once

#include <string>
#include <vector>

#include "store/task_definitions.h"
#include "store/task_runs.h"

namespace slipway {

std::string tasks_table(const std::vector<TaskRevisionRecord>& tasks);
std::string revisions_table(const std::vector<TaskRevisionRecord>& revisions, bool colour);
std::string task_runs_table(const std::vector<TaskRunRecord>& runs, bool colour);
// The active revision's facts, its schedules, then its latest runs.
std::string task_text(const TaskRevisionRecord& task, const std::vector<TaskRunRecord>& runs,
                      const std::vector<TaskScheduleRecord>& schedules, bool colour);
// "Task run #12 succeeded (exit 0) in 3.2s" or "... failed: exited with 3".
std::string run_outcome_line(const TaskRunRecord& run, bool colour);
// One log line as the run printed it; stderr lines in red on a terminal.
std::string log_line_text(const std::string& stream, const std::string& text, bool colour);

}  // namespace slipway
