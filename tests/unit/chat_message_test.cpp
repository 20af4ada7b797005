// The two wire forms of a ChatNotice, parsed back: Slack blocks (emoji, escaping, field sections
// of at most 10, context line, link) and the generic webhook JSON (stable names, RFC 3339 time).
#include "notify/chat_message.h"

#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

namespace slipway {
namespace {

using Json = nlohmann::json;

// 2026-11-26T05:01:02.345Z
constexpr int64_t kAt = 1795669262345;

ChatNotice deployment_notice() {
  ChatNotice notice;
  notice.event = "deployment.rolled_back";
  notice.severity = "failure";
  notice.title = "hello-app → production: rolled back";
  notice.text = "health check failed: GET /health answered 503";
  notice.repository = "hello-app";
  notice.environment = "production";
  notice.deployment_id = 12;
  notice.run_id = 40;
  notice.fields = {{"image", "registry.local/hello-app:1.4.0"}, {"took", "41s"}};
  notice.link = "http://127.0.0.1:8080/deployments/12";
  notice.at_ms = kAt;
  return notice;
}

Json parsed(const std::string& payload) {
  Json json = Json::parse(payload, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << payload;
  return json;
}

std::vector<Json> blocks_of_type(const Json& slack, const std::string& type) {
  std::vector<Json> found;
  for (const auto& block : slack["blocks"]) {
    if (block["type"] == type) found.push_back(block);
  }
  return found;
}

TEST(ChatMessageTest, SlackHasFallbackTextAndTitleWithSeverityEmoji) {
  Json slack = parsed(slack_payload(deployment_notice()));
  EXPECT_EQ(slack["text"], "hello-app → production: rolled back");
  ASSERT_TRUE(slack["blocks"].is_array());
  EXPECT_EQ(slack["blocks"][0]["type"], "section");
  EXPECT_EQ(slack["blocks"][0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(slack["blocks"][0]["text"]["text"], ":x: *hello-app → production: rolled back*");
  EXPECT_EQ(slack["blocks"][1]["text"]["text"], "health check failed: GET /health answered 503");

  ChatNotice notice = deployment_notice();
  notice.severity = "success";
  EXPECT_EQ(parsed(slack_payload(notice))["blocks"][0]["text"]["text"].get<std::string>().rfind(":white_check_mark: ", 0), 0u);
  notice.severity = "info";
  EXPECT_EQ(parsed(slack_payload(notice))["blocks"][0]["text"]["text"].get<std::string>().rfind(":information_source: ", 0), 0u);
}

TEST(ChatMessageTest, SlackEscapesMrkdwnControlCharacters) {
  ChatNotice notice = deployment_notice();
  notice.title = "a <b> & c";
  notice.text = "<!channel> x > y && z";
  notice.fields = {{"<name>", "v & w"}};
  Json slack = parsed(slack_payload(notice));
  EXPECT_EQ(slack["text"], "a &lt;b&gt; &amp; c");
  EXPECT_EQ(slack["blocks"][0]["text"]["text"], ":x: *a &lt;b&gt; &amp; c*");
  EXPECT_EQ(slack["blocks"][1]["text"]["text"], "&lt;!channel&gt; x &gt; y &amp;&amp; z");
  EXPECT_EQ(blocks_of_type(slack, "section")[2]["fields"][0]["text"], "*&lt;name&gt;*\nv &amp; w");
}

TEST(ChatMessageTest, SlackSplitsFieldsIntoSectionsOfTen) {
  ChatNotice notice = deployment_notice();
  notice.fields.clear();
  for (int i = 1; i <= 23; ++i) notice.fields.emplace_back("name" + std::to_string(i), "value" + std::to_string(i));
  Json slack = parsed(slack_payload(notice));
  std::vector<Json> field_sections;
  for (const auto& block : blocks_of_type(slack, "section")) {
    if (block.contains("fields")) field_sections.push_back(block);
  }
  ASSERT_EQ(field_sections.size(), 3u);
  EXPECT_EQ(field_sections[0]["fields"].size(), 10u);
  EXPECT_EQ(field_sections[1]["fields"].size(), 10u);
  EXPECT_EQ(field_sections[2]["fields"].size(), 3u);
  EXPECT_EQ(field_sections[0]["fields"][0]["type"], "mrkdwn");
  EXPECT_EQ(field_sections[0]["fields"][0]["text"], "*name1*\nvalue1");
  EXPECT_EQ(field_sections[2]["fields"][2]["text"], "*name23*\nvalue23");
}

TEST(ChatMessageTest, SlackContextNamesWhereAndWhenAndLinks) {
  Json slack = parsed(slack_payload(deployment_notice()));
  std::vector<Json> contexts = blocks_of_type(slack, "context");
  ASSERT_EQ(contexts.size(), 1u);
  const Json& elements = contexts[0]["elements"];
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[0]["text"],
            "hello-app · production · deployment #12 · run #40 · "
            "<!date^1795669262^{date_short_pretty} {time_secs}|2026-11-26T05:01:02.345Z>");
  EXPECT_EQ(elements[1]["text"], "<http://127.0.0.1:8080/deployments/12|Open in Slipway>");
}

TEST(ChatMessageTest, SlackLeavesOutWhatANoticeDoesNotHave) {
  ChatNotice notice;
  notice.title = "plain";
  Json slack = parsed(slack_payload(notice));
  ASSERT_EQ(slack["blocks"].size(), 1u);  // no text, no fields, no context
  EXPECT_EQ(slack["blocks"][0]["text"]["text"], ":information_source: *plain*");
}

TEST(ChatMessageTest, SlackClipsLongTextToSlackLimitAtACharacterBoundary) {
  ChatNotice notice = deployment_notice();
  notice.text.clear();
  for (int i = 0; i < 2000; ++i) notice.text += "é<";  // 2 bytes + 4 after escaping, per pair
  std::string text = parsed(slack_payload(notice))["blocks"][1]["text"]["text"];
  EXPECT_LE(text.size(), 3000u);
  EXPECT_GT(text.size(), 2900u);
  EXPECT_EQ(text.substr(text.size() - 3), "…");
  EXPECT_EQ(Json(text).dump(), Json(text).dump(-1, ' ', false, Json::error_handler_t::strict));  // valid UTF-8
}

TEST(ChatMessageTest, WebhookHasStableFieldNamesAndRfc3339Time) {
  Json hook = parsed(webhook_payload(deployment_notice()));
  EXPECT_EQ(hook["event"], "deployment.rolled_back");
  EXPECT_EQ(hook["severity"], "failure");
  EXPECT_EQ(hook["title"], "hello-app → production: rolled back");
  EXPECT_EQ(hook["text"], "health check failed: GET /health answered 503");
  EXPECT_EQ(hook["repository"], "hello-app");
  EXPECT_EQ(hook["environment"], "production");
  EXPECT_EQ(hook["deployment_id"], 12);
  EXPECT_EQ(hook["run_id"], 40);
  EXPECT_EQ(hook["fields"], (Json{{"image", "registry.local/hello-app:1.4.0"}, {"took", "41s"}}));
  EXPECT_EQ(hook["link"], "http://127.0.0.1:8080/deployments/12");
  EXPECT_EQ(hook["at"], "2026-11-26T05:01:02.345Z");
  EXPECT_TRUE(std::regex_match(hook["at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST(ChatMessageTest, WebhookSendsNullForAbsentIdsAndTime) {
  ChatNotice notice;
  notice.event = "publish.done";
  Json hook = parsed(webhook_payload(notice));
  EXPECT_TRUE(hook["deployment_id"].is_null());
  EXPECT_TRUE(hook["run_id"].is_null());
  EXPECT_TRUE(hook["at"].is_null());
  EXPECT_TRUE(hook["fields"].is_object());
  EXPECT_EQ(hook["text"], "");  // text (not markup): nothing escaped, nothing left out
}

TEST(ChatMessageTest, InvalidUtf8IsReplacedNotThrown) {
  ChatNotice notice = deployment_notice();
  notice.title = "bad \xff\xfe bytes";
  notice.text = "cut \xc3";
  notice.fields = {{"name\xc0", "value\x80"}};
  std::string slack, hook;
  ASSERT_NO_THROW(slack = slack_payload(notice));
  ASSERT_NO_THROW(hook = webhook_payload(notice));
  EXPECT_EQ(parsed(slack)["text"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(parsed(hook)["title"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(parsed(hook)["text"], "cut \xEF\xBF\xBD");
}

}  // namespace
}  // namespace slipway
