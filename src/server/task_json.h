// Data tasks as the API shows them (docs/api.md, "Tasks"), and back: the one place that names
// their JSON fields, so the server's answers and `slipway task` read the same names. Reading back
// is defensive (a missing or mistyped field reads as empty), as a CLI may meet a server of another
// version. A run's log_path is the server's own business and is not shown.
#pragma once

#include <nlohmann/json.hpp>

#include "store/task_definitions.h"
#include "store/task_runs.h"

namespace slipway {

// Every TaskRevisionRecord field, plus "pinned_image" (what a run's container uses).
nlohmann::json task_revision_json(const TaskRevisionRecord& revision);
TaskRevisionRecord task_revision_from_json(const nlohmann::json& json);

// Every TaskRunRecord field but log_path; "env" as an object of strings.
nlohmann::json task_run_json(const TaskRunRecord& run);
TaskRunRecord task_run_from_json(const nlohmann::json& json);

nlohmann::json task_schedule_json(const TaskScheduleRecord& schedule);
TaskScheduleRecord task_schedule_from_json(const nlohmann::json& json);

}  // namespace slipway
