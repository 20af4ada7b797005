// The intake of continuous deployment against real components: a real distribution registry
// whose notifications endpoint is a real `slipway serve`, with a deployer token in the
// endpoint's headers. A manifest pushed by tag appears in GET /api/v1/registry/pushes with the
// digest the registry answered; its blob uploads leave no row. Hand-made envelopes check the
// auth (401, 403), a malformed body (400) and redelivery (a duplicate adds nothing).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"
#include "support/http_test_client.h"
#include "support/registry_fixture.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::HttpAnswer;
using testing::RegistryOptions;
using testing::RegistryServer;
using testing::ServerProcess;

constexpr const char* kAdminToken = "registry-events-test-admin-token";
constexpr const char* kEventsPath = "/api/v1/registry/events";

class RegistryEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--data-dir", (folder_.path() / "data").string()}, kAdminToken);
    ASSERT_FALSE(server_->address().empty()) << server_->log();
    deployer_ = new_token("registry", "deployer");
    reader_ = new_token("dashboard", "read-only");
    ASSERT_FALSE(deployer_.empty());
    ASSERT_FALSE(reader_.empty());
  }

  HttpAnswer call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "") {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/vnd.docker.distribution.events.v1+json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return testing::http_request(server_->address(), method, target, headers, body);
  }

  std::string new_token(const std::string& name, const std::string& role) {
    HttpAnswer made = call("POST", "/api/v1/tokens", kAdminToken, nlohmann::json{{"name", name}, {"role", role}}.dump());
    EXPECT_EQ(made.status, 201) << made.body;
    auto body = nlohmann::json::parse(made.body, nullptr, false);
    return body.is_object() ? body.value("token", "") : "";
  }

  nlohmann::json pushes(const std::string& query = "") {
    HttpAnswer answer = call("GET", "/api/v1/registry/pushes" + query, reader_);
    EXPECT_EQ(answer.status, 200) << answer.body;
    auto body = nlohmann::json::parse(answer.body, nullptr, false);
    return body.is_object() && body["pushes"].is_array() ? body["pushes"] : nlohmann::json::array();
  }

  static std::string envelope(const std::string& id, const std::string& tag) {
    nlohmann::json event = {
        {"id", id},
        {"timestamp", "2026-11-26T10:00:00Z"},
        {"action", "push"},
        {"target",
         {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
          {"digest", "sha256:" + std::string(64, 'c')},
          {"repository", "dev/hand-made"},
          {"url", "http://127.0.0.1:5999/v2/dev/hand-made/manifests/sha256:" + std::string(64, 'c')},
          {"tag", tag}}},
        {"request", {{"host", "127.0.0.1:5999"}, {"method", "PUT"}}}};
    return nlohmann::json{{"events", {event}}}.dump();
  }

  TemporaryDirectory folder_{"slipway-registry-events"};
  std::unique_ptr<ServerProcess> server_;
  std::string deployer_;
  std::string reader_;
};

TEST_F(RegistryEventsTest, ARealRegistryPushIsRecordedOnceWithItsDigest) {
  RegistryServer registry(RegistryOptions{.auth = RegistryOptions::Auth::none,
                                          .notifications_url = "http://" + server_->address() + kEventsPath,
                                          .notifications_token = deployer_});
  ASSERT_EQ(registry.error(), "");

  RegistryClient client(RegistryEndpoint{registry.address(), {}, ""});
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer = "a layer the registry stores without looking inside";
  BlobDescriptor config_blob{"sha256:" + sha256_hex(config), static_cast<int64_t>(config.size())};
  BlobDescriptor layer_blob{"sha256:" + sha256_hex(layer), static_cast<int64_t>(layer.size())};
  ASSERT_TRUE(client.upload_blob("dev/hello-app", config_blob.digest, config).ok());
  ASSERT_TRUE(client.upload_blob("dev/hello-app", layer_blob.digest, layer).ok());
  std::string manifest = oci_image_manifest(config_blob, {layer_blob});
  auto digest = client.put_manifest("dev/hello-app", "v1", media_type::oci_manifest, manifest);
  ASSERT_TRUE(digest) << digest.error().message;

  // Notifications are asynchronous: the registry queues them and sends them in the background.
  nlohmann::json found = nlohmann::json::array();
  for (int i = 0; i < 100 && found.empty(); ++i) {
    found = pushes("?repository=dev/hello-app");
    if (found.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(found.size(), 1u) << "no push recorded; registry log:\n" << registry.log() << "\nserver log:\n"
                              << server_->log();
  EXPECT_EQ(found[0].value("repository", ""), "dev/hello-app");
  EXPECT_EQ(found[0].value("tag", ""), "v1");
  EXPECT_EQ(found[0].value("digest", ""), *digest);
  EXPECT_EQ(found[0].value("registry", ""), registry.address());
  EXPECT_EQ(found[0].value("media_type", ""), media_type::oci_manifest);

  // The blob uploads were notified before the manifest (the registry sends its events in order),
  // so they were handled before the row above appeared: they made none.
  EXPECT_EQ(pushes().size(), 1u);

  // And the durable event log has the push for whatever deploys it.
  HttpAnswer events = call("GET", "/api/v1/events?after=0", reader_);
  ASSERT_EQ(events.status, 200);
  auto logged = nlohmann::json::parse(events.body, nullptr, false);
  int pushed = 0;
  for (const auto& event : logged["events"]) {
    if (event.value("kind", "") == "image.pushed") {
      ++pushed;
      EXPECT_EQ(event["payload"].value("digest", ""), *digest);
    }
  }
  EXPECT_EQ(pushed, 1);
}

TEST_F(RegistryEventsTest, TheSameEnvelopeTwiceIsStoredOnce) {
  std::string body = envelope("hand-made-1", "v7");
  HttpAnswer first = call("POST", kEventsPath, deployer_, body);
  ASSERT_EQ(first.status, 200) << first.body;
  auto answer = nlohmann::json::parse(first.body, nullptr, false);
  EXPECT_EQ(answer.value("accepted", -1), 1);
  EXPECT_EQ(answer.value("duplicates", -1), 0);

  HttpAnswer second = call("POST", kEventsPath, deployer_, body);
  ASSERT_EQ(second.status, 200) << second.body;
  answer = nlohmann::json::parse(second.body, nullptr, false);
  EXPECT_EQ(answer.value("accepted", -1), 0);
  EXPECT_EQ(answer.value("duplicates", -1), 1);

  auto recorded = pushes();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].value("event_id", ""), "hand-made-1");
  EXPECT_EQ(recorded[0].value("tag", ""), "v7");
  EXPECT_EQ(recorded[0].value("registry", ""), "127.0.0.1:5999");
}

TEST_F(RegistryEventsTest, PullsAndBlobPushesAreAcknowledgedButIgnored) {
  nlohmann::json body = nlohmann::json::parse(envelope("pull-1", "v1"));
  body["events"][0]["action"] = "pull";
  nlohmann::json blob = body["events"][0];
  blob["id"] = "blob-1";
  blob["action"] = "push";
  blob["target"]["mediaType"] = "application/octet-stream";
  body["events"].push_back(blob);
  HttpAnswer answer = call("POST", kEventsPath, deployer_, body.dump());
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto counts = nlohmann::json::parse(answer.body, nullptr, false);
  EXPECT_EQ(counts.value("accepted", -1), 0);
  EXPECT_EQ(counts.value("ignored", -1), 2);
  EXPECT_TRUE(pushes().empty());
}

TEST_F(RegistryEventsTest, TokensAreCheckedAndMalformedBodiesRefused) {
  std::string body = envelope("auth-1", "v1");
  EXPECT_EQ(call("POST", kEventsPath, "not-a-token", body).status, 401);
  EXPECT_EQ(call("POST", kEventsPath, "", body).status, 401);
  EXPECT_EQ(call("POST", kEventsPath, reader_, body).status, 403);
  HttpAnswer malformed = call("POST", kEventsPath, deployer_, "{\"events\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("events"), std::string::npos) << malformed.body;
  EXPECT_EQ(call("POST", kEventsPath, deployer_, "{\"no\": \"events\"}").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/registry/pushes?limit=0", reader_).status, 400);
  EXPECT_TRUE(pushes().empty());  // nothing refused was stored
}

}  // namespace
}  // namespace slipway
