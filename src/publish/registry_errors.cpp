#include "publish/registry_errors.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace slipway {

namespace {

constexpr size_t kRawBodyShown = 200;

// "UNAUTHORIZED: authentication required" for each entry of {"errors":[...]}; "" when the body
// is not that shape.
std::string registry_error_entries(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) return "";
  std::vector<std::string> entries;
  for (const auto& entry : json["errors"]) {
    if (!entry.is_object()) continue;
    std::string code = entry.value("code", "");
    std::string message = entry.value("message", "");
    std::string text = code.empty() ? message : message.empty() ? code : code + ": " + message;
    // The detail says which blob or tag; short ones help, long ones (whole manifests) do not.
    if (entry.contains("detail") && !entry["detail"].is_null()) {
      std::string detail = entry["detail"].is_string() ? entry["detail"].get<std::string>() : entry["detail"].dump();
      if (!detail.empty() && detail.size() <= kRawBodyShown) text += " (" + detail + ")";
    }
    if (!text.empty()) entries.push_back(text);
  }
  return join(entries, "; ");
}

}  // namespace

std::string describe_registry_answer(long status, std::string_view body) {
  std::string described = fmt::format("HTTP {}", status);
  std::string entries = registry_error_entries(body);
  if (!entries.empty()) return described + " " + entries;
  std::string raw(trim(body.substr(0, kRawBodyShown)));
  for (char& c : raw) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return raw.empty() ? described : described + ": " + sanitize_utf8(raw);
}

Error unreachable_registry(std::string_view registry, const Error& transport) {
  // The cause alone ("Connection refused") when the transport gave one; else its whole message.
  const std::string& reason = transport.cause.empty() ? transport.message : transport.cause;
  return make_error(transport.kind, fmt::format("cannot reach the registry at {}: {}", registry, reason));
}

}  // namespace slipway
