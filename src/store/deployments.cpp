#include "store/deployments.h"

#include <string_view>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "store/events.h"
#include "store/store_impl.h"

namespace slipway {

namespace {

// Every column in the order read_deployment() reads them.
constexpr std::string_view kDeploymentColumns =
    "id, application, environment, kind, image, digest, tag, state, outcome, reason, slot, port, "
    "container, container_state, IFNULL(previous_id, 0), settings, created_ms, updated_ms, finished_ms";

DeploymentRecord read_deployment(const Row& row) {
  DeploymentRecord d;
  d.id = row.integer(0);
  d.application = row.text(1);
  d.environment = row.text(2);
  d.kind = row.text(3);
  d.image = row.text(4);
  d.digest = row.text(5);
  d.tag = row.text(6);
  // A state this version does not know (written by a newer one) reads as failed: nothing drives
  // it, and a person sees it ended.
  d.state = deployment_state_from_text(row.text(7)).value_or(DeploymentState::failed);
  d.outcome = deployment_outcome_from_text(row.text(8));
  d.reason = row.text(9);
  d.slot = row.text(10);
  d.port = static_cast<int>(row.integer(11));
  d.container = row.text(12);
  d.container_state = container_state_from_text(row.text(13));
  d.previous_id = row.integer(14);
  d.settings = row.text(15);
  d.created_ms = row.integer(16);
  d.updated_ms = row.integer(17);
  d.finished_ms = row.integer(18);
  return d;
}

// Whole deployments (without their steps), in read_deployment()'s order; the caller binds the
// clause's parameters.
Statement select_deployments(Store& store, std::string_view where_and_order) {
  return store.database().stmt(fmt::format("SELECT {} FROM deployments {}", kDeploymentColumns, where_and_order));
}

// Names and messages may carry text from outside (tags, container errors): replace invalid UTF-8
// rather than fail to store the event.
EventRecord deployment_event(const std::string& kind, const std::string& application, const nlohmann::json& payload,
                             int64_t at_ms) {
  return EventRecord{0, kind, application, 0, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     at_ms};
}

EventRecord queued_event(const DeploymentRecord& d, int64_t id, int64_t at_ms) {
  nlohmann::json payload = {{"deployment", id},       {"application", d.application}, {"environment", d.environment},
                            {"image", d.image},       {"digest", d.digest},           {"tag", d.tag},
                            {"kind", d.kind},         {"state", to_text(d.state)}};
  return deployment_event("deployment.queued", d.application, payload, at_ms);
}

EventRecord transition_event(const DeploymentRecord& d, const std::string& message, int64_t at_ms) {
  nlohmann::json payload = {{"deployment", d.id},        {"application", d.application},
                            {"environment", d.environment}, {"state", to_text(d.state)},
                            {"message", message},        {"outcome", outcome_text(d.outcome)},
                            {"reason", d.reason}};
  return deployment_event("deployment." + std::string(to_text(d.state)), d.application, payload, at_ms);
}

Status insert_step(Database& db, int64_t deployment_id, DeploymentState state, const std::string& message,
                   int64_t at_ms) {
  return db.stmt("INSERT INTO deployment_steps (deployment_id, state, message, at_ms) VALUES (?, ?, ?, ?)")
      .bind(deployment_id, to_text(state), message, at_ms)
      .exec();
}

// Keeps the first handled time: marking again (a retried decision) changes nothing.
Status mark_handled(Database& db, const std::string& event_id, int64_t at_ms) {
  return db.stmt("UPDATE image_pushes SET handled_ms = ? WHERE event_id = ? AND handled_ms IS NULL")
      .bind(at_ms, event_id)
      .exec();
}

Status insert_deployment(Database& db, const DeploymentRecord& d, int64_t created_ms, int64_t updated_ms) {
  return db.stmt("INSERT INTO deployments (application, environment, kind, image, digest, tag, state, outcome, "
                 "reason, slot, port, container, container_state, previous_id, settings, created_ms, updated_ms, "
                 "finished_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?)")
      .bind(d.application, d.environment, d.kind, d.image, d.digest, d.tag, to_text(d.state), outcome_text(d.outcome),
            d.reason, d.slot,
            d.port, d.container, to_text(d.container_state), d.previous_id, d.settings, created_ms, updated_ms,
            d.finished_ms)
      .exec();
}

// Empty (or, for previous_id, negative) fields keep the column. finished_ms is set by the first
// outcome only, so re-recording an end after a restart keeps when it really ended.
Status update_deployment(Database& db, int64_t id, const DeploymentTransition& t, int64_t at_ms) {
  // Numbered parameters, each bound once, in order.
  return db.stmt("UPDATE deployments SET state = ?1, updated_ms = ?2, "
                 "outcome = CASE WHEN ?3 = '' THEN outcome ELSE ?3 END, "
                 "finished_ms = CASE WHEN ?3 = '' OR finished_ms != 0 THEN finished_ms ELSE ?2 END, "
                 "reason = CASE WHEN ?4 = '' THEN reason ELSE ?4 END, "
                 "slot = CASE WHEN ?5 = '' THEN slot ELSE ?5 END, "
                 "port = CASE WHEN ?6 = 0 THEN port ELSE ?6 END, "
                 "container = CASE WHEN ?7 = '' THEN container ELSE ?7 END, "
                 "container_state = CASE WHEN ?8 = '' THEN container_state ELSE ?8 END, "
                 "previous_id = CASE WHEN ?9 < 0 THEN previous_id ELSE NULLIF(?9, 0) END "
                 "WHERE id = ?10")
      .bind(to_text(t.state), at_ms, outcome_text(t.outcome), t.reason, t.slot, t.port, t.container,
            t.container_state ? to_text(*t.container_state) : "", t.previous_id, id)
      .exec();
}

}  // namespace

Result<int64_t> create_deployment(Store& store, const DeploymentRecord& deployment, const std::string& message,
                                  const std::string& handled_push) {
  Database& db = store.database();
  int64_t now = now_ms();
  int64_t created_ms = deployment.created_ms ? deployment.created_ms : now;
  int64_t updated_ms = deployment.updated_ms ? deployment.updated_ms : now;
  int64_t id = 0;
  Status created = db.transaction([&]() -> Status {
    if (Status inserted = insert_deployment(db, deployment, created_ms, updated_ms); !inserted) return inserted;
    id = db.last_insert_id();
    if (Status step = insert_step(db, id, deployment.state, message, updated_ms); !step) return step;
    auto event = append_event(store, queued_event(deployment, id, updated_ms));
    if (!event) return event.error();
    if (handled_push.empty()) return {};
    return mark_handled(db, handled_push, now);  // an unknown event id marks nothing
  });
  std::string operation = fmt::format("create deployment of {} to {}", deployment.application, deployment.environment);
  if (!created) return store_error(operation, created.error().message);
  return id;
}

Status record_deployment_transition(Store& store, int64_t id, const DeploymentTransition& transition) {
  Database& db = store.database();
  int64_t now = now_ms();
  std::string operation = fmt::format("record deployment {} entering '{}'", id, to_text(transition.state));
  Status recorded = db.transaction([&]() -> Status {
    if (Status updated = update_deployment(db, id, transition, now); !updated) return updated;
    if (db.changes() == 0) return make_error(fmt::format("no deployment {}", id));
    auto current = read_first(select_deployments(store, "WHERE id = ?").bind(id), "read it back",
                              read_deployment);  // for the event's payload
    if (!current) return current.error();
    if (!current->has_value()) return make_error(fmt::format("no deployment {}", id));
    if (Status step = insert_step(db, id, transition.state, transition.message, now); !step) return step;
    auto event = append_event(store, transition_event(**current, transition.message, now));
    if (!event) return event.error();
    return {};
  });
  if (!recorded) return store_error(operation, recorded.error().message);
  return {};
}

Status set_deployment_container_state(Store& store, int64_t id, ContainerState container_state) {
  Database& db = store.database();
  std::string operation = fmt::format("set deployment {} container state", id);
  Status updated = db.stmt("UPDATE deployments SET container_state = ? WHERE id = ?").bind(to_text(container_state), id).exec();
  if (!updated) return store_error(operation, updated.error().message);
  return expect_one_change(operation, db, "deployment", id);
}

Result<std::optional<DeploymentRecord>> find_deployment(Store& store, int64_t id) {
  std::string operation = fmt::format("find deployment {}", id);
  auto found = read_first(select_deployments(store, "WHERE id = ?").bind(id), operation, read_deployment);
  if (!found || !found->has_value()) return found;
  DeploymentRecord& deployment = **found;
  Status read = store.database()
                    .stmt("SELECT state, message, at_ms FROM deployment_steps WHERE deployment_id = ? ORDER BY id")
                    .bind(id)
                    .each([&](const Row& row) {
                      deployment.steps.push_back(DeploymentStepRecord{
                          deployment_state_from_text(row.text(0)).value_or(DeploymentState::failed), row.text(1),
                          row.integer(2)});
                    });
  if (!read) return store_error(operation + " steps", read.error().message);
  return found;
}

Result<std::vector<DeploymentRecord>> list_deployments(Store& store, const DeploymentFilter& filter) {
  return read_rows(select_deployments(store, "WHERE (?1 = '' OR application = ?1) AND (?2 = '' OR environment = ?2) "
                                             "AND (?3 = 0 OR outcome = '') AND (?4 = 0 OR id < ?4) "
                                             "ORDER BY id DESC LIMIT ?5")
                       .bind(filter.application, filter.environment, filter.active_only ? 1 : 0, filter.before_id,
                             filter.limit),
                   "list deployments", read_deployment);
}

Result<std::optional<DeploymentRecord>> live_deployment(Store& store, const std::string& application,
                                                        const std::string& environment) {
  return read_first(select_deployments(store, "WHERE application = ? AND environment = ? AND outcome = 'succeeded' "
                                             "ORDER BY id DESC LIMIT 1")
                        .bind(application, environment),
                    fmt::format("find the live deployment of {} in {}", application, environment), read_deployment);
}

Result<std::vector<ImagePushRecord>> unhandled_image_pushes(Store& store, int limit) {
  std::vector<ImagePushRecord> pushes;
  Status read = store.database()
                    .stmt("SELECT event_id, registry, repository, tag, digest, media_type, received_ms "
                          "FROM image_pushes WHERE handled_ms IS NULL ORDER BY received_ms, rowid LIMIT ?")
                    .bind(limit)
                    .each([&](const Row& row) {
                      pushes.push_back(ImagePushRecord{row.text(0), row.text(1), row.text(2), row.text(3),
                                                       row.text(4), row.text(5), row.integer(6)});
                    });
  if (!read) return store_error("list unhandled image pushes", read.error().message);
  return pushes;
}

Status mark_image_push_handled(Store& store, const std::string& event_id) {
  Status marked = mark_handled(store.database(), event_id, now_ms());
  return store_status("mark image push '" + event_id + "' handled", marked);
}

Result<bool> image_push_known(Store& store, const std::string& repository, const std::string& digest) {
  bool known = false;
  Status read = store.database()
                    .stmt("SELECT EXISTS (SELECT 1 FROM image_pushes WHERE repository = ? AND digest = ?)")
                    .bind(repository, digest)
                    .fetch<bool>([&](bool exists) { known = exists; });
  if (!read) return store_error("look up image push of " + repository + "@" + digest, read.error().message);
  return known;
}

}  // namespace slipway
