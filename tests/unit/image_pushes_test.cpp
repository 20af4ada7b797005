// The image_pushes table on a real SQLite file: a push is stored with its "image.pushed" event,
// a redelivered event id writes nothing (no second row, no second event), and listing is newest
// first, filtered by repository.
#include "store/image_pushes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/events.h"

namespace slipway {
namespace {

ImagePushRecord sample_push(std::string event_id, std::string repository, std::string tag, int64_t received_ms) {
  return ImagePushRecord{std::move(event_id), "127.0.0.1:5000", std::move(repository), std::move(tag),
                         "sha256:" + std::string(64, 'a'), "application/vnd.oci.image.manifest.v1+json",
                         received_ms};
}

class ImagePushesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(directory_.path() / "slipway.db");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  std::vector<EventRecord> events() {
    auto listed = list_events(*store_, 0, 100);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? *listed : std::vector<EventRecord>{};
  }

  TemporaryDirectory directory_{"slipway-image-pushes"};
  std::unique_ptr<Store> store_;
};

TEST_F(ImagePushesTest, RecordsThePushAndItsEvent) {
  auto stored = record_image_push(*store_, sample_push("event-1", "dev/app", "v1", 1000));
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_TRUE(*stored);

  auto pushes = list_image_pushes(*store_, "", 10);
  ASSERT_TRUE(pushes) << pushes.error().message;
  ASSERT_EQ(pushes->size(), 1u);
  EXPECT_EQ((*pushes)[0].event_id, "event-1");
  EXPECT_EQ((*pushes)[0].registry, "127.0.0.1:5000");
  EXPECT_EQ((*pushes)[0].repository, "dev/app");
  EXPECT_EQ((*pushes)[0].tag, "v1");
  EXPECT_EQ((*pushes)[0].digest, "sha256:" + std::string(64, 'a'));
  EXPECT_EQ((*pushes)[0].media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ((*pushes)[0].received_ms, 1000);

  auto logged = events();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].kind, "image.pushed");
  EXPECT_EQ(logged[0].repository, "dev/app");
  auto payload = nlohmann::json::parse(logged[0].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << logged[0].payload;
  EXPECT_EQ(payload.value("registry", ""), "127.0.0.1:5000");
  EXPECT_EQ(payload.value("repository", ""), "dev/app");
  EXPECT_EQ(payload.value("tag", ""), "v1");
  EXPECT_EQ(payload.value("digest", ""), "sha256:" + std::string(64, 'a'));
}

TEST_F(ImagePushesTest, ADuplicateEventIdWritesNothing) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("event-1", "dev/app", "v1", 1000)));
  // The redelivery may differ in every other field; the id alone decides.
  auto again = record_image_push(*store_, sample_push("event-1", "dev/other", "v2", 2000));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again);

  auto pushes = list_image_pushes(*store_, "", 10);
  ASSERT_TRUE(pushes) << pushes.error().message;
  ASSERT_EQ(pushes->size(), 1u);
  EXPECT_EQ((*pushes)[0].repository, "dev/app");
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(ImagePushesTest, ListsNewestFirstAndFiltersByRepository) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("a", "dev/app", "v1", 1000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("b", "dev/other", "v1", 2000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("c", "dev/app", "v2", 3000)));
  ASSERT_TRUE(*record_image_push(*store_, sample_push("d", "dev/app", "v3", 3000)));  // same ms: insertion order

  auto all = list_image_pushes(*store_, "", 10);
  ASSERT_TRUE(all) << all.error().message;
  std::vector<std::string> ids;
  for (const auto& push : *all) ids.push_back(push.event_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d", "c", "b", "a"}));

  auto app = list_image_pushes(*store_, "dev/app", 2);
  ASSERT_TRUE(app) << app.error().message;
  ids.clear();
  for (const auto& push : *app) ids.push_back(push.event_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d", "c"}));

  auto none = list_image_pushes(*store_, "dev/unknown", 10);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST_F(ImagePushesTest, ReceivedTimeDefaultsToNow) {
  ASSERT_TRUE(*record_image_push(*store_, sample_push("e", "dev/app", "v1", 0)));
  auto pushes = list_image_pushes(*store_, "dev/app", 1);
  ASSERT_TRUE(pushes && pushes->size() == 1);
  EXPECT_GT((*pushes)[0].received_ms, 1'600'000'000'000);
}

}  // namespace
}  // namespace slipway
