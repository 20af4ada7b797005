#include "server/push_notice.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/object_id.h"
#include "base/strings.h"

namespace slipway {
namespace {

// Any length up to 255 bytes: refs are short, and a megabyte "ref" belongs in no message.
constexpr size_t kMaxRefLength = 255;

bool has_control_character(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

Result<std::string> string_field(const nlohmann::json& object, const char* name, bool required) {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) {
    if (!required) return std::string();
    return make_error(fmt::format("the push payload has no \"{}\"", name));
  }
  if (!found->is_string()) return make_error(fmt::format("\"{}\" in the push payload must be a string", name));
  return found->get<std::string>();
}

}  // namespace

Result<PushNotice> parse_push_notice(std::string_view body) {
  // No exceptions: a malformed body yields a discarded value, not a throw.
  nlohmann::json payload = nlohmann::json::parse(body, nullptr, false);
  if (payload.is_discarded()) return make_error("the body is not valid JSON");
  if (!payload.is_object()) return make_error("the body must be a JSON object with \"ref\" and \"after\"");
  auto ref = string_field(payload, "ref", true);
  if (!ref) return ref.error();
  auto after = string_field(payload, "after", true);
  if (!after) return after.error();
  auto before = string_field(payload, "before", false);
  if (!before) return before.error();
  return PushNotice{*ref, *before, *after};
}

Result<PushAction> push_action(const PushNotice& notice) {
  if (notice.ref.empty() || notice.ref.size() > kMaxRefLength || has_control_character(notice.ref)) {
    return make_error("\"ref\" must be a ref name such as refs/heads/main, without control characters");
  }
  if (!is_full_object_id(notice.after)) return make_error("\"after\" must be a commit sha (40 or 64 hex digits)");
  PushAction action;
  constexpr std::string_view heads = "refs/heads/";
  if (starts_with(notice.ref, "refs/tags/")) {
    action.ignored = "tag pushes start no run";
  } else if (!starts_with(notice.ref, heads) || notice.ref.size() == heads.size()) {
    action.ignored = "only branches (refs/heads/...) start runs";
  } else if (notice.after.find_first_not_of('0') == std::string::npos) {
    action.ignored = "the branch was deleted";
  } else {
    action.branch = notice.ref.substr(heads.size());
    action.commit = notice.after;
  }
  return action;
}

}  // namespace slipway
