#include "ci/run_events.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "store/sqlite_database.h"

namespace slipway {

EventRecord run_event(std::string_view kind, const RunRecord& run) {
  std::string payload = nlohmann::json{{"status", to_text(run.status)}, {"reason", run.reason}, {"trigger", run.trigger},
                                       {"branch", run.branch}, {"commit", run.commit}}
                            .dump();
  return EventRecord{0, std::string(kind), run.repository, run.id, std::move(payload), 0};
}

void record_run_event(Store& store, std::string_view kind, const RunRecord& run) {
  if (auto event = append_event(store, run_event(kind, run)); !event) {
    spdlog::warn("run #{}: {}", run.id, event.error().message);
  }
}

Status record_run_finished(Store& store, const RunRecord& run) {
  return store.database().transaction([&]() -> Status {
    if (Status updated = store.update_run(run); !updated) return updated;
    auto event = append_event(store, run_event("run.finished", run));
    if (!event) return event.error();
    return {};
  });
}

}  // namespace slipway
