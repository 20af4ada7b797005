// parse_registry_envelope on distribution's notification envelope: tagged manifest pushes kept
// (OCI and Docker, images and indexes), layer and config pushes, pulls and digest-only pushes
// ignored, malformed events skipped with a reason, and a table of hostile bodies that must give
// a value or an Error — never an exception, never a crash.
#include "server/registry_events.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slipway {
namespace {

// The shape distribution 2.x sends (docs: "Work with notifications"), one manifest push by tag.
constexpr const char* kManifestPush = R"({
  "events": [
    {
      "id": "320678d8-ca14-430f-8bb6-4ca139cd83f7",
      "timestamp": "2026-11-26T09:52:45.123456789Z",
      "action": "push",
      "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "size": 708,
        "digest": "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf",
        "length": 708,
        "repository": "dev/hello-app",
        "url": "http://127.0.0.1:5000/v2/dev/hello-app/manifests/sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf",
        "tag": "v1"
      },
      "request": {
        "id": "6df24a34-0959-4923-81ca-14f09767db19",
        "addr": "127.0.0.1:52218",
        "host": "registry.internal:5000",
        "method": "PUT",
        "useragent": "slipway/0.1"
      },
      "actor": {"name": "alice"},
      "source": {"addr": "build-host:5000", "instanceID": "8d6b8a5c-3a1b-4a7a-a6d4-7c0c8ad4e2a1"}
    }
  ]
})";

nlohmann::json event(std::string id, std::string action, std::string media_type, std::string tag) {
  nlohmann::json target = {{"mediaType", media_type}, {"digest", "sha256:" + std::string(64, '1')},
                           {"repository", "dev/app"}, {"size", 10},
                           {"url", "http://127.0.0.1:5000/v2/dev/app/manifests/sha256:" + std::string(64, '1')}};
  if (!tag.empty()) target["tag"] = tag;
  return {{"id", id}, {"timestamp", "2026-11-26T09:52:45Z"}, {"action", action}, {"target", target},
          {"request", {{"host", "127.0.0.1:5000"}, {"method", "PUT"}}}};
}

std::string envelope(std::vector<nlohmann::json> events) {
  return nlohmann::json{{"events", events}}.dump();
}

TEST(RegistryEnvelope, ReadsAManifestPushByTag) {
  auto parsed = parse_registry_envelope(kManifestPush);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->pushes.size(), 1u);
  const ImagePush& push = parsed->pushes[0];
  EXPECT_EQ(push.event_id, "320678d8-ca14-430f-8bb6-4ca139cd83f7");
  EXPECT_EQ(push.registry, "127.0.0.1:5000");  // from target.url, not request.host
  EXPECT_EQ(push.repository, "dev/hello-app");
  EXPECT_EQ(push.tag, "v1");
  EXPECT_EQ(push.digest, "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf");
  EXPECT_EQ(push.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(parsed->ignored, 0);
  EXPECT_TRUE(parsed->skipped.empty());
}

TEST(RegistryEnvelope, RegistryFallsBackToRequestHost) {
  nlohmann::json body = nlohmann::json::parse(kManifestPush);
  body["events"][0]["target"].erase("url");
  auto parsed = parse_registry_envelope(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->pushes.size(), 1u);
  EXPECT_EQ(parsed->pushes[0].registry, "registry.internal:5000");
}

TEST(RegistryEnvelope, KeepsEveryManifestTypeAndIgnoresBlobs) {
  auto parsed = parse_registry_envelope(envelope({
      event("oci", "push", "application/vnd.oci.image.manifest.v1+json", "v1"),
      event("oci-index", "push", "application/vnd.oci.image.index.v1+json", "v1"),
      event("docker", "push", "application/vnd.docker.distribution.manifest.v2+json", "v1"),
      event("docker-list", "push", "application/vnd.docker.distribution.manifest.list.v2+json", "v1"),
      event("layer", "push", "application/vnd.oci.image.layer.v1.tar", "v1"),
      event("gzip-layer", "push", "application/vnd.docker.image.rootfs.diff.tar.gzip", ""),
      event("config", "push", "application/vnd.oci.image.config.v1+json", ""),
      event("octet", "push", "application/octet-stream", ""),
  }));
  ASSERT_TRUE(parsed) << parsed.error().message;
  std::vector<std::string> ids;
  for (const auto& push : parsed->pushes) ids.push_back(push.event_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"oci", "oci-index", "docker", "docker-list"}));
  EXPECT_EQ(parsed->ignored, 4);
  EXPECT_TRUE(parsed->skipped.empty());
}

TEST(RegistryEnvelope, IgnoresPullsDeletesAndUntaggedPushes) {
  const char* manifest = "application/vnd.oci.image.manifest.v1+json";
  auto parsed = parse_registry_envelope(envelope({
      event("pull", "pull", manifest, "v1"),
      event("delete", "delete", manifest, "v1"),
      event("mount", "mount", manifest, "v1"),
      event("by-digest", "push", manifest, ""),
      event("kept", "push", manifest, "v2"),
  }));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->pushes.size(), 1u);
  EXPECT_EQ(parsed->pushes[0].event_id, "kept");
  EXPECT_EQ(parsed->pushes[0].tag, "v2");
  EXPECT_EQ(parsed->ignored, 4);
}

TEST(RegistryEnvelope, AnEmptyEnvelopeHasNothing) {
  auto parsed = parse_registry_envelope(R"({"events": []})");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->pushes.empty());
  EXPECT_EQ(parsed->ignored, 0);
}

TEST(RegistryEnvelope, MalformedBodiesAreErrorsThatSayWhatIsExpected) {
  for (const char* body : {"", "not json", "{", "[]", "null", "42", "\"events\"", "{}", R"({"events": {}})",
                           R"({"events": "push"})", R"({"events": null})", R"({"Events": []})"}) {
    auto parsed = parse_registry_envelope(body);
    ASSERT_FALSE(parsed) << "accepted: " << body;
    EXPECT_NE(parsed.error().message.find("\"events\""), std::string::npos) << parsed.error().message;
  }
}

TEST(RegistryEnvelope, MalformedEventsAreSkippedWithAReasonAndTheRestKept) {
  nlohmann::json no_repository = event("no-repo", "push", "application/vnd.oci.image.manifest.v1+json", "v1");
  no_repository["target"].erase("repository");
  nlohmann::json no_digest = event("no-digest", "push", "application/vnd.oci.image.manifest.v1+json", "v1");
  no_digest["target"]["digest"] = 7;
  auto parsed = parse_registry_envelope(envelope({
      nlohmann::json("a string"),
      nlohmann::json{{"action", "push"}},  // no id
      nlohmann::json{{"id", "x"}, {"action", "push"}, {"target", "not an object"}},
      no_repository,
      no_digest,
      event("good", "push", "application/vnd.oci.image.manifest.v1+json", "v1"),
  }));
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->pushes.size(), 1u);
  EXPECT_EQ(parsed->pushes[0].event_id, "good");
  ASSERT_EQ(parsed->skipped.size(), 5u);
  EXPECT_EQ(parsed->skipped[0], "event 1: not an object");
  EXPECT_EQ(parsed->skipped[1], "event 2: no \"id\" string");
  EXPECT_EQ(parsed->skipped[2], "event 3: no \"target\" object");
  EXPECT_EQ(parsed->skipped[3], "event 4 (no-repo): no target.repository");
  EXPECT_EQ(parsed->skipped[4], "event 5 (no-digest): no target.digest");
}

// Every field replaced by every wrong type, plus bodies built to hurt a parser.
TEST(RegistryEnvelope, HostileInputNeverThrows) {
  std::vector<std::string> bodies = {
      std::string(100'000, '['),                          // deep nesting
      "{\"events\":" + std::string(50'000, '[') + std::string(50'000, ']') + "}",
      std::string("{\"events\":[\"\xff\xfe\"]}"),        // invalid UTF-8
      std::string("{\"events\":[]}\0trailing", 23),
      R"({"events":[{"id":"a","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","tag":"v1","repository":"r","digest":"d","url":"://"}}]})",
      R"({"events":[{"id":"a","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","tag":"v1","repository":"r","digest":"d","url":"http://"}}]})",
      R"({"events":[1e999999, -0, 1.5, true, false, null, [], {}]})",
  };
  std::vector<nlohmann::json> wrong_values = {nullptr, true, 0, -1, 1.5, "", nlohmann::json::array(),
                                              nlohmann::json::object(), nlohmann::json::array({1, 2}),
                                              nlohmann::json{{"nested", {{"deeper", 1}}}}};
  nlohmann::json good = event("good", "push", "application/vnd.oci.image.manifest.v1+json", "v1");
  for (const auto& value : wrong_values) {
    for (const char* field : {"id", "action", "target", "request", "timestamp"}) {
      nlohmann::json broken = good;
      broken[field] = value;
      bodies.push_back(envelope({broken}));
    }
    for (const char* field : {"mediaType", "digest", "repository", "url", "tag", "size"}) {
      nlohmann::json broken = good;
      broken["target"][field] = value;
      bodies.push_back(envelope({broken}));
    }
    nlohmann::json request_broken = good;
    request_broken["target"].erase("url");
    request_broken["request"]["host"] = value;
    bodies.push_back(envelope({request_broken}));
    bodies.push_back(nlohmann::json{{"events", value}}.dump());
  }
  for (const auto& body : bodies) {
    // An exception would fail the test; what it must give is pushes complete in every field,
    // or an error that says what is wrong.
    auto parsed = parse_registry_envelope(body);
    if (!parsed) {
      EXPECT_FALSE(parsed.error().message.empty()) << body.substr(0, 200);
      continue;
    }
    for (const auto& push : parsed->pushes) {
      EXPECT_FALSE(push.event_id.empty()) << body.substr(0, 200);
      EXPECT_FALSE(push.tag.empty()) << body.substr(0, 200);
      EXPECT_FALSE(push.repository.empty()) << body.substr(0, 200);
      EXPECT_FALSE(push.digest.empty()) << body.substr(0, 200);
    }
  }
}

TEST(RegistryEnvelope, KnowsTheManifestMediaTypes) {
  EXPECT_TRUE(is_manifest_media_type("application/vnd.docker.distribution.manifest.v2+json"));
  EXPECT_FALSE(is_manifest_media_type("application/vnd.docker.distribution.manifest.v1+json"));  // schema 1: gone
  EXPECT_FALSE(is_manifest_media_type("application/vnd.oci.image.manifest.v1+json; charset=utf-8"));
  EXPECT_FALSE(is_manifest_media_type(""));
}

}  // namespace
}  // namespace slipway
