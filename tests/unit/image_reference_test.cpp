// Image references and registry URLs against the distribution reference grammar: what parses,
// into which parts, and that every refusal says what is wrong.
#include <gtest/gtest.h>

#include <string>

#include "spec/image_reference.h"

namespace slipway {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ImageReference, RegistryRepositoryAndTag) {
  auto reference = parse_image_reference("127.0.0.1:5000/dev/hello-app:1a2b3c4");
  ASSERT_TRUE(reference.ok()) << reference.error().message;
  EXPECT_EQ(reference->registry, "127.0.0.1:5000");
  EXPECT_EQ(reference->repository, "dev/hello-app");
  EXPECT_EQ(reference->tag, "1a2b3c4");
  EXPECT_EQ(reference->digest, "");
  EXPECT_EQ(reference->to_string(), "127.0.0.1:5000/dev/hello-app:1a2b3c4");
}

TEST(ImageReference, DigestWithOrWithoutTag) {
  auto by_digest = parse_image_reference("127.0.0.1:5000/dev/hello-app@" + kDigest);
  ASSERT_TRUE(by_digest.ok()) << by_digest.error().message;
  EXPECT_EQ(by_digest->tag, "");
  EXPECT_EQ(by_digest->digest, kDigest);
  auto both = parse_image_reference("localhost:5000/hello-app:latest@" + kDigest);
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->registry, "localhost:5000");
  EXPECT_EQ(both->repository, "hello-app");
  EXPECT_EQ(both->tag, "latest");
  EXPECT_EQ(both->digest, kDigest);
  EXPECT_EQ(both->to_string(), "localhost:5000/hello-app:latest@" + kDigest);
}

TEST(ImageReference, RegistryForms) {
  for (const char* text : {"registry.example.com/team/app", "localhost/app", "[::1]:5000/app", "my-registry.local:443/a/b/c",
                           "127.0.0.1/app:v1.2.3"}) {
    auto reference = parse_image_reference(text);
    EXPECT_TRUE(reference.ok()) << text << ": " << reference.error().message;
  }
  EXPECT_EQ(parse_image_reference("[::1]:5000/app")->registry, "[::1]:5000");
}

TEST(ImageReference, SeparatorsInsideComponents) {
  for (const char* path : {"a", "a.b", "a_b", "a__b", "a-b", "a---b", "a/b.c_d__e-f", "0/9"}) {
    EXPECT_TRUE(check_repository_path(path).ok()) << path;
  }
  for (const char* path : {"", "A", "a..b", "a___b", "a.-b", "-a", "a-", "a//b", "/a", "a/", "a.", "_a", "a b", "a:b"}) {
    Status checked = check_repository_path(path);
    EXPECT_FALSE(checked.ok()) << path;
  }
}

TEST(ImageReference, RefusesAReferenceWithoutRegistry) {
  for (const char* text : {"hello-app", "hello-app:1.0", "library/hello-app"}) {
    auto reference = parse_image_reference(text);
    ASSERT_FALSE(reference.ok()) << text;
    EXPECT_NE(reference.error().message.find("names no registry"), std::string::npos) << reference.error().message;
    EXPECT_NE(reference.error().message.find(text), std::string::npos) << reference.error().message;
  }
}

TEST(ImageReference, RefusesInvalidParts) {
  struct Case {
    std::string text;
    std::string says;
  };
  std::vector<Case> cases = {
      {"127.0.0.1:5000/Dev/app", "invalid component 'Dev'"},
      {"127.0.0.1:5000/dev/app:-latest", "invalid tag"},
      {"127.0.0.1:5000/dev/app:" + std::string(129, 'a'), "invalid tag"},
      {"127.0.0.1:5000/dev/app@sha256:abc", "64 lowercase hex"},
      {"127.0.0.1:5000/dev/app@sha256:" + std::string(64, 'A'), "64 lowercase hex"},
      {"127.0.0.1:5000/dev/app@" + std::string(64, 'a'), "ALGORITHM:HEX"},
      {"127.0.0.1:99999/app", "invalid registry host"},
      {"-bad.example.com/app", "invalid registry host"},
      {"127.0.0.1:5000/", "repository path is empty"},
      {"127.0.0.1:5000/" + std::string(250, 'a'), "longer than 255"},
  };
  for (const auto& c : cases) {
    auto reference = parse_image_reference(c.text);
    ASSERT_FALSE(reference.ok()) << c.text;
    EXPECT_NE(reference.error().message.find(c.says), std::string::npos) << c.text << " -> " << reference.error().message;
  }
}

TEST(ImageReference, TagAndDigestRules) {
  EXPECT_TRUE(check_tag("v1.2.3-rc_1").ok());
  EXPECT_TRUE(check_tag("_private").ok());
  EXPECT_TRUE(check_tag(std::string(128, 'x')).ok());
  EXPECT_FALSE(check_tag(".hidden").ok());
  EXPECT_FALSE(check_tag("a/b").ok());
  EXPECT_FALSE(check_tag("").ok());
  EXPECT_TRUE(check_digest(kDigest).ok());
  EXPECT_TRUE(check_digest("sha512:" + std::string(128, 'f')).ok());
  EXPECT_TRUE(check_digest("multihash+base58:" + std::string(32, '1')).ok());
  EXPECT_FALSE(check_digest("sha256").ok());
  EXPECT_FALSE(check_digest("256sha:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(check_digest("sha+:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(check_digest("sha256:" + std::string(63, 'a') + "g").ok());
}

TEST(RegistryUrl, HostAndPrefix) {
  auto location = parse_registry_url("127.0.0.1:5000/dev");
  ASSERT_TRUE(location.ok()) << location.error().message;
  EXPECT_EQ(location->registry, "127.0.0.1:5000");
  EXPECT_EQ(location->prefix, "dev");
  EXPECT_EQ(location->repository("hello-app"), "dev/hello-app");

  auto root = parse_registry_url("http://127.0.0.1:5000/");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(root->registry, "127.0.0.1:5000");
  EXPECT_EQ(root->prefix, "");
  EXPECT_EQ(root->repository("hello-app"), "hello-app");

  auto nested = parse_registry_url("registry.example.com/team/prod");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->repository("app"), "team/prod/app");
}

TEST(ImageName, TakesLocalNamesAndRegistryReferences) {
  auto local = parse_image_name("postgis/postgis:13");
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_EQ(local->registry, "");
  EXPECT_EQ(local->repository, "postgis/postgis");
  EXPECT_EQ(local->tag, "13");
  auto bare = parse_image_name("redis");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->repository, "redis");
  EXPECT_EQ(bare->tag, "");
  auto pinned = parse_image_name(std::string("127.0.0.1:5000/db@") + kDigest);
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(pinned->registry, "127.0.0.1:5000");
  EXPECT_EQ(pinned->digest, kDigest);
}

TEST(ImageName, RefusesWhatTheEngineWould) {
  for (const char* text : {"", "Postgres", "postgres:-13", "postgres@sha256:abc", "a b", "postgres:", "/postgres",
                           "127.0.0.1:99999/db"}) {
    EXPECT_FALSE(parse_image_name(text).ok()) << text;
  }
}

TEST(RegistryUrl, RefusesBadUrls) {
  for (const char* url : {"", "/dev", "127.0.0.1:port/dev", "127.0.0.1:5000/Dev", "127.0.0.1:5000/dev//x"}) {
    auto location = parse_registry_url(url);
    ASSERT_FALSE(location.ok()) << url;
    EXPECT_NE(location.error().message.find("registry url '" + std::string(url) + "'"), std::string::npos)
        << location.error().message;
  }
}

}  // namespace
}  // namespace slipway
