// GET /api/v1/events?after=ID&limit=N: the durable event log, oldest first, for followers.
#include "server/api_json.h"
#include "server/api_routes.h"
#include "store/events.h"
#include "store/outbox.h"

namespace slipway {

void add_event_routes(Router& router, ApiContext& context) {
  // What is waiting to be told to the outside, per channel, and the latest deliveries given up.
  router.add("GET", "/api/v1/outbox", context.read_role(), [&context](HttpRequest&) {
    return with_store(context.stores, [&](Store& store) {
      auto counts = count_outbox(store);
      if (!counts) return server_error(counts.error());
      auto failed = list_outbox(store, OutboxState::failed, 20);
      if (!failed) return server_error(failed.error());
      std::map<std::string, nlohmann::json> channels;
      for (const OutboxCount& count : *counts) {
        nlohmann::json& channel = channels[count.channel];
        if (channel.is_null()) channel = {{"channel", count.channel}, {"pending", 0}, {"delivered", 0}, {"failed", 0}};
        channel[std::string(to_text(count.state))] = count.count;
        if (count.oldest_pending_ms > 0) channel["oldest_pending_ms"] = count.oldest_pending_ms;
      }
      nlohmann::json answer = {{"channels", nlohmann::json::array()}, {"failed", nlohmann::json::array()}};
      for (auto& [name, channel] : channels) answer["channels"].push_back(channel);
      for (const OutboxItem& item : *failed) {
        answer["failed"].push_back({{"id", item.id}, {"channel", item.channel}, {"payload", nlohmann::json::parse(item.payload, nullptr, false)},
                                    {"attempts", item.attempts}, {"error", item.last_error}, {"finished_ms", item.finished_ms}});
      }
      return HttpResponse::json(200, answer);
    });
  });

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
