#include "notify/chat_message.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"

namespace slipway {

namespace {

// ordered_json keeps keys in the order written, so a payload reads top-down in a log or a diff.
using Json = nlohmann::ordered_json;

// Slack's limits (api.slack.com/reference/block-kit/blocks): a section's text at most 3000
// characters, a field's 2000, at most 10 fields per section and 10 context elements. Limits count
// characters; clipping by bytes is stricter, so it is always within them.
constexpr size_t kSectionTextLimit = 3000;
constexpr size_t kFieldTextLimit = 2000;
constexpr size_t kFieldsPerSection = 10;

// Never ends a message with half a UTF-8 sequence: continuation bytes are 10xxxxxx.
bool starts_character(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; }

// Slack's mrkdwn takes &, < and > as control characters (links, mentions): they must be sent as
// HTML entities. Stops before `limit` bytes, at a character boundary, and marks the cut with "…".
std::string mrkdwn(std::string_view text, size_t limit) {
  static constexpr std::string_view kEllipsis = "…";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    std::string_view piece = text[i] == '&' ? "&amp;" : text[i] == '<' ? "&lt;" : text[i] == '>' ? "&gt;"
                                                                                                : text.substr(i, 1);
    if (out.size() + piece.size() + kEllipsis.size() > limit && starts_character(text[i])) {
      return out.append(kEllipsis);
    }
    out.append(piece);
  }
  return out;
}

// A link target inside <url|label>: & as an entity, the delimiters percent-encoded.
std::string slack_link_target(std::string_view url) {
  std::string out;
  for (char c : url) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "%3C";
    else if (c == '>') out += "%3E";
    else if (c == '|') out += "%7C";
    else out += c;
  }
  return out;
}

std::string_view severity_emoji(std::string_view severity) {
  if (severity == "success") return ":white_check_mark:";
  if (severity == "failure") return ":x:";
  return ":information_source:";
}

Json mrkdwn_text(std::string text) { return Json{{"type", "mrkdwn"}, {"text", std::move(text)}}; }

Json section(std::string text) { return Json{{"type", "section"}, {"text", mrkdwn_text(std::move(text))}}; }

// One section per 10 fields, each field "*name*\nvalue".
void add_field_sections(const ChatNotice& notice, Json& blocks) {
  for (size_t first = 0; first < notice.fields.size(); first += kFieldsPerSection) {
    Json fields = Json::array();
    for (size_t i = first; i < notice.fields.size() && i < first + kFieldsPerSection; ++i) {
      const auto& [name, value] = notice.fields[i];
      std::string label = "*" + mrkdwn(name, kFieldTextLimit / 4) + "*\n";
      fields.push_back(mrkdwn_text(label + mrkdwn(value, kFieldTextLimit - label.size())));
    }
    blocks.push_back(Json{{"type", "section"}, {"fields", std::move(fields)}});
  }
}

// "hello-app · production · deployment #12 · <time>" and the link: where and when, in small print.
// The time uses Slack's date token so each reader sees it in their own time zone; the RFC 3339
// fallback is what clients without date support show.
Json context_block(const ChatNotice& notice) {
  std::vector<std::string> parts;
  if (!notice.repository.empty()) parts.push_back(mrkdwn(notice.repository, 200));
  if (!notice.environment.empty()) parts.push_back(mrkdwn(notice.environment, 200));
  if (notice.deployment_id != 0) parts.push_back(fmt::format("deployment #{}", notice.deployment_id));
  if (notice.run_id != 0) parts.push_back(fmt::format("run #{}", notice.run_id));
  if (notice.at_ms != 0) {
    parts.push_back(fmt::format("<!date^{}^{{date_short_pretty}} {{time_secs}}|{}>", notice.at_ms / 1000,
                                format_timestamp(notice.at_ms)));
  }
  std::string line;
  for (const auto& part : parts) line += (line.empty() ? "" : " · ") + part;
  Json elements = Json::array();
  if (!line.empty()) elements.push_back(mrkdwn_text(line));
  if (!notice.link.empty()) elements.push_back(mrkdwn_text("<" + slack_link_target(notice.link) + "|Open in Slipway>"));
  return Json{{"type", "context"}, {"elements", std::move(elements)}};
}

// Invalid UTF-8 (a commit message, a log line) becomes U+FFFD instead of an exception.
std::string dump(const Json& payload) { return payload.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string slack_payload(const ChatNotice& notice) {
  Json blocks = Json::array();
  blocks.push_back(section(fmt::format("{} *{}*", severity_emoji(notice.severity), mrkdwn(notice.title, 1000))));
  if (!notice.text.empty()) blocks.push_back(section(mrkdwn(notice.text, kSectionTextLimit)));
  add_field_sections(notice, blocks);
  Json context = context_block(notice);
  if (!context["elements"].empty()) blocks.push_back(std::move(context));
  // The top-level text is the notification preview and the fallback: plain, but Slack still
  // parses it as mrkdwn, so it is escaped too.
  return dump(Json{{"text", mrkdwn(notice.title, kSectionTextLimit)}, {"blocks", std::move(blocks)}});
}

std::string webhook_payload(const ChatNotice& notice) {
  Json fields = Json::object();
  for (const auto& [name, value] : notice.fields) fields[name] = value;
  auto id_or_null = [](int64_t id) { return id == 0 ? Json(nullptr) : Json(id); };
  return dump(Json{{"event", notice.event},
                   {"severity", notice.severity},
                   {"title", notice.title},
                   {"text", notice.text},
                   {"repository", notice.repository},
                   {"environment", notice.environment},
                   {"deployment_id", id_or_null(notice.deployment_id)},
                   {"run_id", id_or_null(notice.run_id)},
                   {"fields", std::move(fields)},
                   {"link", notice.link},
                   {"at", notice.at_ms == 0 ? Json(nullptr) : Json(format_timestamp(notice.at_ms))}});
}

}  // namespace slipway
