#include "server/registry_events.h"

#include <array>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace slipway {

namespace {

using nlohmann::json;

// The string at `key` of an object, "" when absent or not a string.
std::string text_at(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

// "http://127.0.0.1:5000/v2/dev/app/manifests/sha256:..." → "127.0.0.1:5000"; "" if not a URL.
std::string host_of_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

// Why the event is malformed ("" when it is well formed enough to judge).
std::string malformed(const json& event) {
  if (!event.is_object()) return "not an object";
  if (text_at(event, "id").empty()) return "no \"id\" string";
  if (text_at(event, "action").empty()) return "no \"action\" string";
  auto target = event.find("target");
  if (target == event.end() || !target->is_object()) return "no \"target\" object";
  return "";
}

// The push an event describes, or nullopt with `reason` set when it is not one worth keeping.
std::optional<ImagePush> push_of(const json& event, std::string& reason) {
  const json& target = *event.find("target");
  if (text_at(event, "action") != "push") return std::nullopt;
  if (!is_manifest_media_type(text_at(target, "mediaType"))) return std::nullopt;
  ImagePush push{text_at(event, "id"), host_of_url(text_at(target, "url")), text_at(target, "repository"),
                 text_at(target, "tag"), text_at(target, "digest"), text_at(target, "mediaType")};
  if (push.tag.empty()) return std::nullopt;  // a push by digest: no tag for a deployment to follow
  if (push.registry.empty()) {
    auto request = event.find("request");
    if (request != event.end()) push.registry = text_at(*request, "host");
  }
  if (push.repository.empty()) reason = "no target.repository";
  else if (push.digest.empty()) reason = "no target.digest";
  if (!reason.empty()) return std::nullopt;
  return push;
}

}  // namespace

bool is_manifest_media_type(std::string_view media_type) {
  static constexpr std::array<std::string_view, 4> kManifests = {
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.docker.distribution.manifest.v2+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
  };
  for (auto known : kManifests) {
    if (media_type == known) return true;
  }
  return false;
}

Result<ParsedEnvelope> parse_registry_envelope(std::string_view body) {
  json envelope = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded()) {
    return make_error("the registry notification is not valid JSON: expected distribution's event envelope "
                      "{\"events\": [...]}");
  }
  if (!envelope.is_object() || !envelope.contains("events") || !envelope["events"].is_array()) {
    return make_error("the registry notification has no \"events\" array: expected distribution's event "
                      "envelope {\"events\": [...]}");
  }
  ParsedEnvelope parsed;
  size_t position = 0;
  for (const json& event : envelope["events"]) {
    ++position;
    if (std::string why = malformed(event); !why.empty()) {
      parsed.skipped.push_back(fmt::format("event {}: {}", position, why));
      continue;
    }
    std::string reason;
    if (auto push = push_of(event, reason)) {
      parsed.pushes.push_back(std::move(*push));
    } else if (!reason.empty()) {
      parsed.skipped.push_back(fmt::format("event {} ({}): {}", position, text_at(event, "id"), reason));
    } else {
      ++parsed.ignored;
    }
  }
  return parsed;
}

}  // namespace slipway
