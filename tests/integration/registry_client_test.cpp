// RegistryClient against a real distribution registry (docker-registry 2.8) on 127.0.0.1:
// htpasswd and no-auth modes, token mode with a real signed-JWT issuer, chunked uploads checked
// in the registry's own storage, manifests by tag and digest, re-tags, mounts, and the two
// failures a user meets most: wrong credentials and a registry that is down.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"
#include "support/registry_fixture.h"

namespace slipway {
namespace {

using testing::RegistryOptions;
using testing::RegistryServer;
using testing::TokenIssuer;

constexpr int64_t kMiB = 1 << 20;

// A file of `size` random bytes and its digest.
struct RandomBlob {
  RandomBlob(const std::filesystem::path& folder, int64_t size) : file(folder / ("blob-" + std::to_string(size))) {
    std::ofstream out(file, std::ios::binary);
    for (int64_t written = 0; written < size; written += kMiB) {
      out << random_bytes(static_cast<size_t>(std::min<int64_t>(kMiB, size - written)));
    }
    out.close();
    digest = "sha256:" + *sha256_file_hex(file.string());
  }
  std::filesystem::path file;
  std::string digest;
};

// Where the registry's filesystem driver keeps a blob's bytes.
std::filesystem::path stored_blob(const RegistryServer& registry, const std::string& digest) {
  std::string hex = digest.substr(7);
  return registry.storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
}

RegistryEndpoint endpoint_of(const RegistryServer& registry) {
  return RegistryEndpoint{registry.address(), {registry.username(), registry.password()}, ""};
}

// A config and one layer uploaded to `repository`, and the OCI manifest naming them.
struct SmallImage {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer = "not really a tar, but the registry does not look inside";
  std::string manifest;

  Status upload(RegistryClient& client, const std::string& repository) {
    BlobDescriptor config_blob{"sha256:" + sha256_hex(config), static_cast<int64_t>(config.size())};
    BlobDescriptor layer_blob{"sha256:" + sha256_hex(layer), static_cast<int64_t>(layer.size())};
    manifest = oci_image_manifest(config_blob, {layer_blob});
    if (Status sent = client.upload_blob(repository, config_blob.digest, config); !sent) return sent;
    return client.upload_blob(repository, layer_blob.digest, layer);
  }
};

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(registry_.error(), ""); }

  TemporaryDirectory folder_{"slipway-registry-client"};
  RegistryServer registry_;
};

TEST_F(RegistryClientTest, ChunkedUploadLandsByteForByte) {
  RandomBlob blob(folder_.path(), 20 * kMiB);
  RegistryClient client(endpoint_of(registry_));
  auto before = client.blob_size("dev/app", blob.digest);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_FALSE(before->has_value());

  std::vector<int64_t> progress;
  UploadOptions options{4 * kMiB, [&](int64_t uploaded) { progress.push_back(uploaded); }};
  Status uploaded = client.upload_blob("dev/app", blob.digest, blob.file, 0, -1, options);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  // Each value is what the registry's Range answer said it holds after a 4 MiB PATCH.
  EXPECT_EQ(progress, (std::vector<int64_t>{4 * kMiB, 8 * kMiB, 12 * kMiB, 16 * kMiB, 20 * kMiB}));

  auto after = client.blob_size("dev/app", blob.digest);
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ(**after, 20 * kMiB);
  auto stored = sha256_file_hex(stored_blob(registry_, blob.digest).string());
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ("sha256:" + *stored, blob.digest);
}

TEST_F(RegistryClientTest, UploadsARangeOfAFile) {
  RandomBlob blob(folder_.path(), 3 * kMiB);
  std::string middle = read_file(blob.file)->substr(kMiB + 5, kMiB);
  std::string range_digest = "sha256:" + sha256_hex(middle);
  RegistryClient client(endpoint_of(registry_));
  Status uploaded = client.upload_blob("dev/app", range_digest, blob.file, kMiB + 5, kMiB, {300'000, nullptr});
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  auto size = client.blob_size("dev/app", range_digest);
  ASSERT_TRUE(size.ok() && size->has_value());
  EXPECT_EQ(**size, kMiB);
  EXPECT_EQ(*read_file(stored_blob(registry_, range_digest)), middle);
}

TEST_F(RegistryClientTest, StreamedBlobOfUnknownDigest) {
  std::string content = random_bytes(10 * kMiB + 123);
  size_t offset = 0;
  RegistryClient client(endpoint_of(registry_));
  auto streamed = client.upload_blob_stream("dev/app", [&](char* buffer, size_t size) -> Result<size_t> {
    size_t n = std::min({size, content.size() - offset, size_t{77'777}});  // odd pieces
    std::copy_n(content.data() + offset, n, buffer);
    offset += n;
    return n;
  });
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  EXPECT_EQ(streamed->digest, "sha256:" + sha256_hex(content));
  EXPECT_EQ(streamed->size, static_cast<int64_t>(content.size()));
  EXPECT_EQ(client.blob_size("dev/app", streamed->digest)->value_or(0), static_cast<int64_t>(content.size()));
  EXPECT_EQ(*read_file(stored_blob(registry_, streamed->digest)), content);

  // A source that fails half-way: its error comes back and nothing is committed.
  offset = 0;
  auto failed = client.upload_blob_stream("dev/app", [&](char* buffer, size_t size) -> Result<size_t> {
    if (offset > kMiB) return make_error("the archive ended early");
    size_t n = std::min(size, content.size() - offset);
    std::copy_n(content.data() + offset, n, buffer);
    offset += n;
    return n;
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "the archive ended early");
}

TEST_F(RegistryClientTest, WrongDigestIsRefusedByTheRegistry) {
  RandomBlob blob(folder_.path(), kMiB);
  RegistryClient client(endpoint_of(registry_));
  std::string wrong = "sha256:" + std::string(64, '0');
  Status uploaded = client.upload_blob("dev/app", wrong, blob.file, 0, -1);
  ASSERT_FALSE(uploaded.ok());
  EXPECT_NE(uploaded.error().message.find("DIGEST_INVALID"), std::string::npos) << uploaded.error().message;
  auto size = client.blob_size("dev/app", wrong);
  ASSERT_TRUE(size.ok());
  EXPECT_FALSE(size->has_value());
  // From memory, the mismatch is caught before anything is sent.
  Status small = client.upload_blob("dev/app", wrong, std::string("config"));
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("its content's digest is sha256:"), std::string::npos) << small.error().message;
}

TEST_F(RegistryClientTest, ManifestByTagAndDigestRetagAndTags) {
  RegistryClient client(endpoint_of(registry_));
  SmallImage image;
  ASSERT_TRUE(image.upload(client, "dev/app").ok());

  auto digest = client.put_manifest("dev/app", "v1", media_type::oci_manifest, image.manifest);
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(*digest, "sha256:" + sha256_hex(image.manifest));

  for (const std::string& reference : {std::string("v1"), *digest}) {
    auto manifest = client.get_manifest("dev/app", reference);
    ASSERT_TRUE(manifest.ok()) << manifest.error().message;
    ASSERT_TRUE(manifest->has_value()) << reference;
    EXPECT_EQ((*manifest)->body, image.manifest);
    EXPECT_EQ((*manifest)->media_type, media_type::oci_manifest);
    EXPECT_EQ((*manifest)->digest, *digest);
  }
  auto resolved = client.resolve_digest("dev/app", "v1");
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(resolved->value_or(""), *digest);

  // A re-tag is the same manifest under another name: no blob moves.
  auto retagged = client.put_manifest("dev/app", "v2", media_type::oci_manifest, image.manifest);
  ASSERT_TRUE(retagged.ok()) << retagged.error().message;
  EXPECT_EQ(*retagged, *digest);
  auto tags = client.list_tags("dev/app");
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  std::sort(tags->begin(), tags->end());
  EXPECT_EQ(*tags, (std::vector<std::string>{"v1", "v2"}));

  auto missing = client.get_manifest("dev/app", "nope");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing->has_value());
  auto unresolved = client.resolve_digest("dev/app", "nope");
  ASSERT_TRUE(unresolved.ok()) << unresolved.error().message;
  EXPECT_FALSE(unresolved->has_value());
  auto no_repository = client.list_tags("dev/nothing-here");
  ASSERT_TRUE(no_repository.ok()) << no_repository.error().message;
  EXPECT_TRUE(no_repository->empty());

  auto deleted = client.delete_manifest("dev/app", *digest);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(client.resolve_digest("dev/app", "v1")->has_value());
}

TEST_F(RegistryClientTest, ManifestNamingAMissingBlobIsRefusedWithTheRegistrysWords) {
  RegistryClient client(endpoint_of(registry_));
  std::string manifest = oci_image_manifest({"sha256:" + std::string(64, '1'), 10}, {});
  auto digest = client.put_manifest("dev/app", "broken", media_type::oci_manifest, manifest);
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.error().message.find("could not store the manifest dev/app:broken: HTTP 400 MANIFEST_BLOB_UNKNOWN"),
            std::string::npos)
      << digest.error().message;
}

TEST_F(RegistryClientTest, CrossRepositoryMount) {
  RegistryClient client(endpoint_of(registry_));
  SmallImage image;
  ASSERT_TRUE(image.upload(client, "dev/app").ok());
  std::string layer = "sha256:" + sha256_hex(image.layer);
  auto mounted = client.mount_blob("prod/app", layer, "dev/app");
  ASSERT_TRUE(mounted.ok()) << mounted.error().message;
  EXPECT_TRUE(*mounted);
  auto size = client.blob_size("prod/app", layer);
  ASSERT_TRUE(size.ok() && size->has_value());
  EXPECT_EQ(**size, static_cast<int64_t>(image.layer.size()));

  auto unknown = client.mount_blob("prod/app", "sha256:" + std::string(64, '2'), "dev/app");
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_FALSE(*unknown);
}

TEST_F(RegistryClientTest, WrongCredentialsSayWhoWasRefused) {
  RegistryClient client(RegistryEndpoint{registry_.address(), {"alice", "not-the-password"}, ""});
  auto size = client.blob_size("dev/app", "sha256:" + std::string(64, 'a'));
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().message, "registry " + registry_.address() +
                                      " refused the credentials for user 'alice' (HTTP 401 UNAUTHORIZED: "
                                      "authentication required)");
  Status access = client.check_access();
  ASSERT_FALSE(access.ok());
  EXPECT_NE(access.error().message.find("refused the credentials for user 'alice'"), std::string::npos);

  RegistryClient anonymous(RegistryEndpoint{registry_.address(), {}, ""});
  Status anonymous_access = anonymous.check_access();
  ASSERT_FALSE(anonymous_access.ok());
  EXPECT_NE(anonymous_access.error().message.find("requires credentials and none were given"), std::string::npos)
      << anonymous_access.error().message;
}

TEST_F(RegistryClientTest, RegistryDownSaysSo) {
  RegistryClient client(endpoint_of(registry_));
  ASSERT_TRUE(client.check_access().ok());
  registry_.stop();
  auto size = client.blob_size("dev/app", "sha256:" + std::string(64, 'a'));
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().message, "cannot reach the registry at " + registry_.address() + ": Connection refused");

  RegistryClient closed_port(RegistryEndpoint{"127.0.0.1:" + std::to_string(testing::free_loopback_port()), {}, ""});
  Status access = closed_port.check_access();
  ASSERT_FALSE(access.ok());
  EXPECT_EQ(access.error().message, "cannot reach the registry at " + closed_port.registry() + ": Connection refused");
}

TEST(RegistryClientModes, RelativeLocationsAndNoAuth) {
  RegistryServer registry(RegistryOptions{RegistryOptions::Auth::none, "", "", nullptr, true, "", ""});
  ASSERT_EQ(registry.error(), "");
  TemporaryDirectory folder("slipway-registry-client");
  RandomBlob blob(folder.path(), 5 * kMiB);
  RegistryClient client(RegistryEndpoint{registry.address(), {}, ""});
  ASSERT_TRUE(client.check_access().ok());
  Status uploaded = client.upload_blob("app", blob.digest, blob.file, 0, -1, {2 * kMiB, nullptr});
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  EXPECT_EQ(client.blob_size("app", blob.digest)->value_or(0), 5 * kMiB);
  SmallImage image;
  ASSERT_TRUE(image.upload(client, "app").ok());
  auto digest = client.put_manifest("app", "latest", media_type::oci_manifest, image.manifest);
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(client.resolve_digest("app", "latest")->value_or(""), *digest);
}

TEST(RegistryClientModes, BearerTokensFromARealIssuer) {
  TokenIssuer issuer("alice", "token-password");
  ASSERT_EQ(issuer.error(), "");
  RegistryServer registry(RegistryOptions{RegistryOptions::Auth::token, "alice", "token-password", &issuer, false, "", ""});
  ASSERT_EQ(registry.error(), "");
  RegistryClient client(RegistryEndpoint{registry.address(), {"alice", "token-password"}, ""});
  client.expect_push("dev/app");
  SmallImage image;
  Status uploaded = image.upload(client, "dev/app");
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message << "\n" << registry.log();
  auto digest = client.put_manifest("dev/app", "v1", media_type::oci_manifest, image.manifest);
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(client.resolve_digest("dev/app", "v1")->value_or(""), *digest);
  EXPECT_EQ(client.list_tags("dev/app")->size(), 1u);

  // One token for the whole push, asked for with the push scope, then reused from the cache.
  EXPECT_EQ(client.auth().tokens_fetched(), 1);
  EXPECT_EQ(issuer.requests(), 1);
  ASSERT_EQ(issuer.scopes_requested().size(), 1u);
  EXPECT_EQ(issuer.scopes_requested()[0], "repository:dev/app:pull,push");

  // A mount needs pull on the source too: a second token, for both scopes.
  auto mounted = client.mount_blob("prod/app", "sha256:" + sha256_hex(image.layer), "dev/app");
  ASSERT_TRUE(mounted.ok()) << mounted.error().message;
  EXPECT_TRUE(*mounted);
  ASSERT_EQ(issuer.scopes_requested().size(), 2u);
  EXPECT_EQ(issuer.scopes_requested()[1], "repository:prod/app:pull,push repository:dev/app:pull");

  RegistryClient wrong(RegistryEndpoint{registry.address(), {"alice", "nope"}, ""});
  auto refused = wrong.resolve_digest("dev/app", "v1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "registry " + registry.address() +
                                         " refused the credentials for user 'alice' (token service " + issuer.realm() +
                                         ": HTTP 401 UNAUTHORIZED: invalid username or password)");
}

}  // namespace
}  // namespace slipway
