// POST /api/v1/registry/events: the intake of continuous deployment, a distribution registry's
// notification endpoint (deployer role: the token sits in the endpoint's headers). Each tagged
// manifest push is stored, deduplicated by event id, before the answer: a 200 means stored, and
// a 500 makes the registry send the whole envelope again, whose stored events then count as
// duplicates. GET /api/v1/registry/pushes?repository=&limit= lists what was recorded.
#include <spdlog/spdlog.h>

#include "server/api_json.h"
#include "server/api_routes.h"
#include "server/registry_events.h"
#include "store/image_pushes.h"

namespace slipway {

namespace {

HttpResponse record_pushes(Store& store, const ParsedEnvelope& envelope) {
  int accepted = 0;
  int duplicates = 0;
  for (const ImagePush& push : envelope.pushes) {
    auto stored = record_image_push(store, ImagePushRecord{push.event_id, push.registry, push.repository, push.tag,
                                                           push.digest, push.media_type, 0});
    if (!stored) return server_error(stored.error());
    if (*stored) ++accepted;
    else ++duplicates;
  }
  // Skipped events are answered 200 all the same: the registry would resend a malformed event
  // forever, holding up the good ones queued behind it.
  for (const auto& reason : envelope.skipped) spdlog::warn("registry notification: skipped {}", reason);
  return HttpResponse::json(200, {{"accepted", accepted},
                                  {"duplicates", duplicates},
                                  {"ignored", envelope.ignored + static_cast<int>(envelope.skipped.size())},
                                  {"skipped", envelope.skipped}});
}

nlohmann::json push_json(const ImagePushRecord& push) {
  return {{"event_id", push.event_id}, {"registry", push.registry}, {"repository", push.repository},
          {"tag", push.tag}, {"digest", push.digest}, {"media_type", push.media_type},
          {"received_ms", push.received_ms}};
}

}  // namespace

void add_registry_routes(Router& router, ApiContext& context) {
  router.add("POST", "/api/v1/registry/events", Role::deployer, [&context](HttpRequest& request) {
    auto envelope = parse_registry_envelope(request.body);
    if (!envelope) return bad_request(envelope.error());
    HttpResponse answer = with_store(context.stores, [&](Store& store) { return record_pushes(store, *envelope); });
    if (answer.status == 200 && context.image_pushed) context.image_pushed();
    return answer;
  });
  router.add("GET", "/api/v1/registry/pushes", context.read_role(), [&context](HttpRequest& request) {
    auto limit = integer_parameter(request.query, "limit", 50, 1, 1000);
    if (!limit) return bad_request(limit.error());
    auto found = request.query.find("repository");
    std::string repository = found != request.query.end() ? found->second : "";
    return with_store(context.stores, [&](Store& store) {
      auto pushes = list_image_pushes(store, repository, static_cast<int>(*limit));
      if (!pushes) return server_error(pushes.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& push : *pushes) list.push_back(push_json(push));
      return HttpResponse::json(200, {{"pushes", list}});
    });
  });
}

}  // namespace slipway
