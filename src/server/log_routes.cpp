// GET /api/v1/steps/{id}/log (a range, or the tail) and GET /api/v1/steps/{id}/log/follow
// (Server-Sent Events while the step runs; at most max_log_follows at once).
#include <atomic>
#include <memory>

#include <fmt/core.h>

#include "server/api_json.h"
#include "server/api_routes.h"
#include "server/log_range.h"

namespace slipway {

namespace {

constexpr int64_t kDefaultPageBytes = 256 * 1024;
constexpr int64_t kMaxPageBytes = 8 * 1024 * 1024;

bool step_finished(const StepRecord& step) {
  return step.status != RunStatus::queued && step.status != RunStatus::running;
}

Result<StepRecord> load_step(Store& store, int64_t id) {
  auto step = store.find_step(id);
  if (!step) return step.error();
  if (!*step) return make_error(fmt::format("no step #{} (a run's detail lists its steps' ids)", id));
  return **step;
}

// Borrows a connection only for the lookup, so a long follow does not hold one while it waits.
Result<StepRecord> load_step(StorePool& stores, int64_t id) {
  auto lease = stores.acquire();
  if (!lease) return lease.error();
  return load_step(**lease, id);
}

std::string error_event(const Error& error) { return nlohmann::json{{"error", error.message}}.dump(); }

nlohmann::json range_json(const LogRange& range, bool finished) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& record : range.records) lines.push_back(log_record_json(record));
  return {{"offset", range.offset},
          {"next_offset", range.next_offset},
          {"size", range.size},
          {"complete", finished && range.next_offset == range.size},
          {"lines", std::move(lines)}};
}

HttpResponse read_log(Store& store, const HttpRequest& request) {
  auto id = integer_parameter(request.params, "id", 0, 1, INT64_MAX);
  if (!id) return bad_request(id.error());
  auto offset = integer_parameter(request.query, "offset", 0, 0, INT64_MAX);
  auto limit = integer_parameter(request.query, "limit", kDefaultPageBytes, 1, kMaxPageBytes);
  auto tail = integer_parameter(request.query, "tail", 0, 1, kMaxPageBytes);
  if (!offset) return bad_request(offset.error());
  if (!limit) return bad_request(limit.error());
  if (!tail) return bad_request(tail.error());
  auto step = load_step(store, *id);
  if (!step) return HttpResponse::error(404, step.error().message);
  // Read the status before the file: whatever a finished step wrote is then on disk.
  bool finished = step_finished(*step);
  auto range = request.query.count("tail") ? read_log_tail(step->log_dir, *tail, kMaxPageBytes)
                                           : read_log_range(step->log_dir, *offset, *limit);
  if (!range) return server_error(range.error());
  return HttpResponse::json(200, range_json(*range, finished));
}

// A place among the open follows, given back when the stream's producer is destroyed (the
// stream ended, the client left, the server stopped).
class FollowSlot {
 public:
  explicit FollowSlot(std::shared_ptr<std::atomic<int>> open) : open_(std::move(open)) {}
  ~FollowSlot() { (*open_)--; }
  FollowSlot(const FollowSlot&) = delete;
  FollowSlot& operator=(const FollowSlot&) = delete;

 private:
  std::shared_ptr<std::atomic<int>> open_;
};

// Null when `maximum` follows are open already.
std::shared_ptr<FollowSlot> take_follow_slot(const std::shared_ptr<std::atomic<int>>& open, int maximum) {
  if (++*open > maximum) {
    (*open)--;
    return nullptr;
  }
  return std::make_shared<FollowSlot>(open);
}

// The SSE producer, one page per call: sends each new record as `event: line` and ends with
// `event: end` once the step has finished and everything up to its end has been sent. The
// server calls it again at once while there is more, every ~100 ms while there is not.
EventProducer follow_log(StorePool& stores, int64_t step_id, uint64_t offset, std::shared_ptr<FollowSlot> slot) {
  return [&stores, step_id, offset, slot = std::move(slot)](const EventSend& send) mutable {
    auto step = load_step(stores, step_id);
    if (!step) {
      send("error", error_event(step.error()));
      return EventStep::done;
    }
    bool finished = step_finished(*step);  // before reading: see read_log
    auto range = read_log_range(step->log_dir, offset, kDefaultPageBytes);
    if (!range) {
      send("error", error_event(range.error()));
      return EventStep::done;
    }
    for (const auto& record : range->records) {
      send("line", log_record_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    offset = range->next_offset;
    if (!range->records.empty()) return EventStep::more;
    if (finished && offset == range->size) {
      send("end", nlohmann::json{{"next_offset", offset}, {"status", step->status}}.dump());
      return EventStep::done;
    }
    return EventStep::idle;
  };
}

HttpResponse too_many_follows(int maximum, int64_t step_id) {
  return HttpResponse::error(
      503, fmt::format("{} live log follows are open, the server's limit (max_log_follows in slipway.yml): "
                       "read the log with GET /api/v1/steps/{}/log?offset=N instead, or follow it again later",
                       maximum, step_id));
}

}  // namespace

void add_log_routes(Router& router, ApiContext& context) {
  auto follows = std::make_shared<std::atomic<int>>(0);
  router.add("GET", "/api/v1/steps/{id}/log", context.read_role(), [&context](HttpRequest& request) {
    return with_store(context.stores, [&](Store& store) { return read_log(store, request); });
  });
  router.add("GET", "/api/v1/steps/{id}/log/follow", context.read_role(), [&context, follows](HttpRequest& request) {
    auto id = integer_parameter(request.params, "id", 0, 1, INT64_MAX);
    auto offset = integer_parameter(request.query, "offset", 0, 0, INT64_MAX);
    if (!id) return bad_request(id.error());
    if (!offset) return bad_request(offset.error());
    return with_store(context.stores, [&](Store& store) {
      if (auto step = load_step(store, *id); !step) return HttpResponse::error(404, step.error().message);
      auto slot = take_follow_slot(follows, context.config.max_log_follows);
      if (!slot) return too_many_follows(context.config.max_log_follows, *id);
      HttpResponse response;
      response.content_type = "text/event-stream";
      response.events = follow_log(context.stores, *id, static_cast<uint64_t>(*offset), std::move(slot));
      return response;
    });
  });
}

}  // namespace slipway
