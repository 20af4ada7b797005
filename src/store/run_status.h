// RunStatus: where a run, one of its jobs or one of their steps stands — one vocabulary for the
// three, as the API and the UI show them. Text only at the edges: the runs, jobs and steps
// tables, the events' payloads, the JSON API and the CLI's output (to_text /
// run_status_from_text); everywhere else compared and switched over as this enum.
#pragma once

#include <array>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace slipway {

enum class RunStatus {
  queued,     // recorded, waiting for a worker (or, for a run, for its commit to be fetched)
  running,
  passed,     // final
  failed,     // final
  cancelled,  // final: asked to stop, or superseded
  skipped,    // final: did not run (a publish job after a failed test, a step after a failed one)
};

inline constexpr std::array<RunStatus, 6> kRunStatuses = {RunStatus::queued,  RunStatus::running,
                                                         RunStatus::passed,  RunStatus::failed,
                                                         RunStatus::cancelled, RunStatus::skipped};

// "queued", "passed"...: the text the store, events and API carry.
std::string_view to_text(RunStatus status);
// nullopt for a text that names no status.
std::optional<RunStatus> run_status_from_text(std::string_view text);
// "queued, running, passed, failed, cancelled, skipped": for messages naming what is accepted.
std::string run_status_names();
// Passed, failed, cancelled or skipped: nothing will change it any more.
bool is_finished(RunStatus status);

std::ostream& operator<<(std::ostream& out, RunStatus status);  // as to_text: for test messages
// As to_text, so that {"status", record.status} in a JSON answer is the text, never the number.
void to_json(nlohmann::json& json, RunStatus status);

}  // namespace slipway
