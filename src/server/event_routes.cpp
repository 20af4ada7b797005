// GET /api/v1/events?after=ID&limit=N: the durable event log, oldest first, for followers.
#include "server/api_json.h"
#include "server/api_routes.h"
#include "store/events.h"

namespace slipway {

void add_event_routes(Router& router, ApiContext& context) {
  router.add("GET", "/api/v1/events", context.read_role(), [&context](HttpRequest& request) {
    auto after = integer_parameter(request.query, "after", 0, 0, INT64_MAX);
    auto limit = integer_parameter(request.query, "limit", 100, 1, 1000);
    if (!after) return bad_request(after.error());
    if (!limit) return bad_request(limit.error());
    return with_store(context.stores, [&](Store& store) {
      auto events = list_events(store, *after, static_cast<int>(*limit));
      if (!events) return server_error(events.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& event : *events) {
        // The payload is stored as JSON text; a malformed one is passed on as a string.
        nlohmann::json payload = nlohmann::json::parse(event.payload, nullptr, false);
        if (payload.is_discarded()) payload = event.payload;
        list.push_back({{"id", event.id},
                        {"kind", event.kind},
                        {"repository", event.repository},
                        {"run_id", event.run_id ? nlohmann::json(event.run_id) : nlohmann::json(nullptr)},
                        {"payload", std::move(payload)},
                        {"created_ms", event.created_ms}});
      }
      return HttpResponse::json(200, {{"events", list}});
    });
  });
}

}  // namespace slipway
