#include "store/run_status.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "base/enum_text.h"

namespace slipway {

namespace {

constexpr EnumText<RunStatus, 6> kNames = {{{
    {RunStatus::queued, "queued"},
    {RunStatus::running, "running"},
    {RunStatus::passed, "passed"},
    {RunStatus::failed, "failed"},
    {RunStatus::cancelled, "cancelled"},
    {RunStatus::skipped, "skipped"},
}}};

}  // namespace

std::string_view to_text(RunStatus status) { return kNames.text(status); }

std::optional<RunStatus> run_status_from_text(std::string_view text) { return kNames.parse(text); }

std::string run_status_names() { return kNames.list(); }

bool is_finished(RunStatus status) { return status != RunStatus::queued && status != RunStatus::running; }

std::ostream& operator<<(std::ostream& out, RunStatus status) { return out << to_text(status); }

void to_json(nlohmann::json& json, RunStatus status) { json = to_text(status); }

}  // namespace slipway
