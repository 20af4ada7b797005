// Webhook HMAC verification against GitHub's documented example, and the push parsing that
// follows it: hostile bodies are 400s, never crashes; tags and deletions start nothing.
#include <gtest/gtest.h>

#include <string>

#include "server/push_notice.h"
#include "server/webhook_signature.h"

namespace slipway {
namespace {

// From GitHub's "Validating webhook deliveries" documentation.
const std::string kSecret = "It's a Secret to Everybody";
const std::string kPayload = "Hello, World!";
const std::string kSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

TEST(WebhookSignature, GitHubExampleVector) {
  EXPECT_EQ("sha256=" + hmac_sha256_hex(kSecret, kPayload), kSignature);
  EXPECT_TRUE(signature_matches(kSecret, kPayload, kSignature));
}

TEST(WebhookSignature, UpperCaseHexIsAccepted) {
  std::string upper = kSignature;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(signature_matches(kSecret, kPayload, upper));
}

TEST(WebhookSignature, RefusesEverythingElse) {
  EXPECT_FALSE(signature_matches(kSecret, kPayload + " ", kSignature));
  EXPECT_FALSE(signature_matches(kSecret + "x", kPayload, kSignature));
  EXPECT_FALSE(signature_matches("", kPayload, kSignature));
  EXPECT_FALSE(signature_matches(kSecret, kPayload, ""));
  EXPECT_FALSE(signature_matches(kSecret, kPayload, kSignature.substr(7)));             // no prefix
  EXPECT_FALSE(signature_matches(kSecret, kPayload, "sha1=" + kSignature.substr(7)));   // wrong algorithm
  EXPECT_FALSE(signature_matches(kSecret, kPayload, kSignature.substr(0, kSignature.size() - 1)));
  EXPECT_FALSE(signature_matches(kSecret, kPayload, kSignature + "0"));
  std::string not_hex = kSignature;
  not_hex.back() = 'g';
  EXPECT_FALSE(signature_matches(kSecret, kPayload, not_hex));
}

TEST(WebhookSignature, LongKeysAreHashedNotTruncated) {
  std::string long_secret(200, 'k');
  std::string signature = "sha256=" + hmac_sha256_hex(long_secret, kPayload);
  EXPECT_TRUE(signature_matches(long_secret, kPayload, signature));
  EXPECT_FALSE(signature_matches(long_secret.substr(0, 199), kPayload, signature));
}

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";

TEST(PushNotice, ParsesGitHubPayload) {
  auto notice = parse_push_notice(R"({"ref":"refs/heads/feature/x","before":"00","after":")" + kSha +
                                  R"(","repository":{"name":"r"},"commits":[]})");
  ASSERT_TRUE(notice.ok()) << notice.error().message;
  auto action = push_action(*notice);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(action->branch, "feature/x");
  EXPECT_EQ(action->commit, kSha);
  EXPECT_TRUE(action->ignored.empty());
}

TEST(PushNotice, MalformedBodiesAreErrors) {
  for (const char* body : {"", "{", "[]", "null", "\"x\"", R"({"after":"a"})", R"({"ref":"refs/heads/a"})",
                           R"({"ref":7,"after":"a"})", R"({"ref":"refs/heads/a","after":null})",
                           "{\"ref\":\"refs/heads/\xff\",\"after\":\"a\"}"}) {
    EXPECT_FALSE(parse_push_notice(body).ok()) << body;
  }
}

TEST(PushNotice, RefsAndShasAreChecked) {
  auto action_for = [](std::string ref, std::string after) { return push_action({ref, "", after}); };
  EXPECT_FALSE(action_for("refs/heads/a\nb", kSha).ok());
  EXPECT_FALSE(action_for(std::string("refs/heads/a\0b", 14), kSha).ok());
  EXPECT_FALSE(action_for("refs/heads/" + std::string(300, 'a'), kSha).ok());
  EXPECT_FALSE(action_for("refs/heads/main", "HEAD").ok());
  EXPECT_FALSE(action_for("refs/heads/main", "$(rm -rf /)").ok());
  EXPECT_FALSE(action_for("", kSha).ok());

  EXPECT_EQ(action_for("refs/tags/v1.0.0", kSha)->ignored, "tag pushes start no run");
  EXPECT_FALSE(action_for("refs/notes/commits", kSha)->ignored.empty());
  EXPECT_FALSE(action_for("refs/heads/", kSha)->ignored.empty());
  EXPECT_EQ(action_for("refs/heads/main", std::string(40, '0'))->ignored, "the branch was deleted");

  // Shell metacharacters are a branch name like any other: data, passed on as it is.
  auto odd = action_for("refs/heads/x;$(touch pwned)`id`&|", kSha);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->branch, "x;$(touch pwned)`id`&|");
}

}  // namespace
}  // namespace slipway
