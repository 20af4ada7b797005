#include "store/task_run_status.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "base/enum_text.h"

namespace slipway {

namespace {

constexpr EnumText<TaskRunStatus, 6> kNames = {{{
    {TaskRunStatus::queued, "queued"},
    {TaskRunStatus::running, "running"},
    {TaskRunStatus::succeeded, "succeeded"},
    {TaskRunStatus::failed, "failed"},
    {TaskRunStatus::timed_out, "timed_out"},
    {TaskRunStatus::interrupted, "interrupted"},
}}};

}  // namespace

std::string_view to_text(TaskRunStatus status) { return kNames.text(status); }

std::optional<TaskRunStatus> task_run_status_from_text(std::string_view text) { return kNames.parse(text); }

bool is_finished(TaskRunStatus status) { return status != TaskRunStatus::queued && status != TaskRunStatus::running; }

std::ostream& operator<<(std::ostream& out, TaskRunStatus status) { return out << to_text(status); }

void to_json(nlohmann::json& json, TaskRunStatus status) { json = to_text(status); }

}  // namespace slipway
