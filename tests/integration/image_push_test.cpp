// push_image end to end: a FROM scratch image with a static binary, built by the real dockerd,
// pushed to a real htpasswd registry; pushed again (nothing uploaded), under a new tag (nothing
// uploaded), then removed from dockerd and pulled back by digest through dockerd itself — the
// proof that the uncompressed OCI manifest is one Docker can use. Plus the failures a publish
// job reports: wrong credentials, registry down, no such image.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "base/run_command.h"
#include "publish/docker_engine.h"
#include "publish/image_pusher.h"
#include "publish/registry_client.h"
#include "support/docker_daemon.h"
#include "support/registry_fixture.h"

namespace slipway {
namespace {

using testing::DockerDaemon;
using testing::RegistryServer;

// Pulls `reference` into dockerd through the Engine API (POST /images/create) with the
// registry's credentials; "" on success, else the daemon's error.
std::string pull_through_dockerd(const std::string& socket, const std::string& image, const std::string& digest,
                                 const RegistryServer& registry) {
  nlohmann::json auth = {{"username", registry.username()}, {"password", registry.password()},
                         {"serveraddress", registry.address()}};
  std::string encoded = to_base64(auth.dump());
  for (char& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
  HttpClientRequest request;
  request.method = "POST";
  request.url = "http://localhost/v1.41/images/create?fromImage=" + percent_encode(image) + "&tag=" + percent_encode(digest);
  request.unix_socket = socket;
  request.headers.set("X-Registry-Auth", encoded);
  HttpClient client;
  auto answer = client.send(request);
  if (!answer) return answer.error().message;
  if (answer->status != 200) return "HTTP " + std::to_string(answer->status) + ": " + answer->body;
  size_t error = answer->body.find("\"errorDetail\"");
  return error == std::string::npos ? "" : answer->body.substr(error);
}

class ImagePushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(docker_.error(), "");
    ASSERT_EQ(registry_.error(), "");
    // A static binary and a megabyte of noise in a FROM scratch image: two layers.
    std::ofstream(context_.path() / "hello.c") << "#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n";
    auto compiled = run_command_checked({"gcc", "-static", "-O2", "-o", (context_.path() / "hello").string(),
                                         (context_.path() / "hello.c").string()});
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    std::ofstream(context_.path() / "noise", std::ios::binary) << random_bytes(1 << 20);
    std::ofstream(context_.path() / "Dockerfile") << "FROM scratch\nCOPY hello /hello\nCOPY noise /noise\nCMD [\"/hello\"]\n";
    local_name_ = "slipway-push-test:" + to_hex(random_bytes(4));
    auto built = engine_.build_image({context_.path(), "Dockerfile", "", {local_name_}, {}}, nullptr);
    ASSERT_TRUE(built.ok()) << built.error().message;
    image_id_ = *built;
  }

  void TearDown() override {
    if (!image_id_.empty()) (void)engine_.remove_image(image_id_, true);
  }

  Result<PushResult> push(RegistryClient& client, const std::vector<std::string>& tags) {
    lines_.clear();
    return push_image(engine_, client, image_id_, "dev/hello-app", tags, scratch_.path(),
                      [&](std::string_view line) { lines_.emplace_back(line); });
  }

  // Where the first line holding `words` is in lines_; lines_.size() when none does.
  size_t line_index(const std::string& words) const {
    return static_cast<size_t>(std::find_if(lines_.begin(), lines_.end(), [&](const auto& line) {
                                 return line.find(words) != std::string::npos;
                               }) - lines_.begin());
  }

  bool logged(const std::string& words) const {
    return std::any_of(lines_.begin(), lines_.end(), [&](const auto& line) { return line.find(words) != std::string::npos; });
  }

  DockerDaemon docker_;
  DockerEngine engine_{DockerDaemon::kSocket};
  RegistryServer registry_;
  TemporaryDirectory context_{"slipway-push-context"};
  TemporaryDirectory scratch_{"slipway-push-scratch"};
  std::string local_name_;
  std::string image_id_;
  std::vector<std::string> lines_;
};

TEST_F(ImagePushTest, PushRepushNewTagAndPullBack) {
  RegistryClient client(RegistryEndpoint{registry_.address(), {registry_.username(), registry_.password()}, ""});
  auto details = engine_.inspect_image(image_id_);
  ASSERT_TRUE(details.ok() && details->has_value());
  size_t layers = (*details)->diff_ids.size();
  ASSERT_EQ(layers, 2u);

  auto first = push(client, {"v1", "latest"});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->uploaded_blobs, 3);  // config and both layers
  EXPECT_EQ(first->reused_blobs, 0);
  EXPECT_GT(first->bytes_uploaded, 1 << 20);
  EXPECT_TRUE(logged("uploaded in")) << lines_.front();
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path())) << "the exported image must be removed";
  EXPECT_EQ(client.resolve_digest("dev/hello-app", "latest")->value_or(""), first->digest);

  auto again = push(client, {"v1", "latest"});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->uploaded_blobs, 0);
  EXPECT_EQ(again->reused_blobs, 3);
  EXPECT_EQ(again->bytes_uploaded, 0);
  EXPECT_EQ(again->digest, first->digest);
  EXPECT_TRUE(logged("already in the registry"));
  EXPECT_FALSE(logged("exported"));

  auto retag = push(client, {"v2"});
  ASSERT_TRUE(retag.ok()) << retag.error().message;
  EXPECT_EQ(retag->uploaded_blobs, 0);
  EXPECT_EQ(retag->digest, first->digest);
  auto tags = client.list_tags("dev/hello-app");
  ASSERT_TRUE(tags.ok());
  std::sort(tags->begin(), tags->end());
  EXPECT_EQ(*tags, (std::vector<std::string>{"latest", "v1", "v2"}));

  // dockerd forgets the image, then pulls it back by digest: the same image id comes back.
  ASSERT_TRUE(engine_.remove_image(image_id_, true).ok());
  ASSERT_FALSE(engine_.inspect_image(image_id_)->has_value());
  std::string repository = registry_.address() + "/dev/hello-app";
  std::string pulled = pull_through_dockerd(docker_.socket(), repository, first->digest, registry_);
  ASSERT_EQ(pulled, "");
  auto back = engine_.inspect_image(repository + "@" + first->digest);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->id, image_id_);
  EXPECT_EQ((*back)->diff_ids, (*details)->diff_ids);
}

// A second image on top of the first: only its own layer and config travel (streamed while
// dockerd exports it, because its size matches nothing in the repository).
TEST_F(ImagePushTest, OnlyTheNewLayerTravels) {
  RegistryClient client(RegistryEndpoint{registry_.address(), {registry_.username(), registry_.password()}, ""});
  ASSERT_TRUE(push(client, {"base"}).ok());
  TemporaryDirectory context("slipway-push-context");
  std::ofstream(context.path() / "more", std::ios::binary) << random_bytes(300'000);
  std::ofstream(context.path() / "Dockerfile") << "FROM " << local_name_ << "\nCOPY more /more\n";
  auto built = engine_.build_image({context.path(), "Dockerfile", "", {local_name_ + "-more"}, {}}, nullptr);
  ASSERT_TRUE(built.ok()) << built.error().message;
  auto pushed = push_image(engine_, client, *built, "dev/hello-app", {"more"}, scratch_.path(),
                           [&](std::string_view line) { lines_.emplace_back(line); });
  (void)engine_.remove_image(*built, true);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_EQ(pushed->uploaded_blobs, 2);  // its config and its one new layer
  EXPECT_EQ(pushed->reused_blobs, 2);
  EXPECT_LT(pushed->bytes_uploaded, 400'000);
  // Streamed: the layer was in the registry before the export was over.
  EXPECT_LT(line_index("uploaded in"), line_index("image exported"));
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path()));
}

// An image whose new layer has exactly the size of its layer already in the registry (the same
// file, same length, other bytes, written over the first): the two cannot be told apart until
// hashed, so the new one goes from the unpacked archive afterwards. The push must still be whole.
TEST_F(ImagePushTest, NewLayerOfTheSameSizeAsOneInTheRegistry) {
  RegistryClient client(RegistryEndpoint{registry_.address(), {registry_.username(), registry_.password()}, ""});
  auto image_with_noise = [&](const std::string& from, const std::string& name) -> std::string {
    TemporaryDirectory context("slipway-push-context");
    std::ofstream(context.path() / "noise", std::ios::binary) << random_bytes(200'000);
    std::ofstream(context.path() / "Dockerfile") << "FROM " << from << "\nCOPY noise /noise\n";
    auto built = engine_.build_image({context.path(), "Dockerfile", "", {name}, {}}, nullptr);
    EXPECT_TRUE(built.ok()) << built.error().message;
    return built.ok() ? *built : "";
  };
  std::string first = image_with_noise("scratch", local_name_ + "-first");
  std::string second = image_with_noise(local_name_ + "-first", local_name_ + "-second");
  ASSERT_FALSE(first.empty() || second.empty());
  auto first_pushed = push_image(engine_, client, first, "dev/same-size", {"first"}, scratch_.path(), nullptr);
  lines_.clear();
  auto second_pushed = push_image(engine_, client, second, "dev/same-size", {"second"}, scratch_.path(),
                                  [&](std::string_view line) { lines_.emplace_back(line); });
  auto second_layers = engine_.inspect_image(second);
  (void)engine_.remove_image(second, true);
  (void)engine_.remove_image(first, true);
  ASSERT_TRUE(first_pushed.ok()) << first_pushed.error().message;
  ASSERT_TRUE(second_pushed.ok()) << second_pushed.error().message;
  EXPECT_EQ(second_pushed->uploaded_blobs, 2);  // its config and its own layer
  EXPECT_EQ(second_pushed->reused_blobs, 1);
  // Not streamed: sent from the unpacked archive, after the export.
  EXPECT_LT(line_index("image exported"), line_index("uploaded in"));
  EXPECT_LT(line_index("uploaded in"), lines_.size());
  ASSERT_TRUE(second_layers.ok() && second_layers->has_value());
  ASSERT_EQ((*second_layers)->diff_ids.size(), 2u);
  auto sizes = std::make_pair(client.blob_size("dev/same-size", (*second_layers)->diff_ids[0]),
                              client.blob_size("dev/same-size", (*second_layers)->diff_ids[1]));
  ASSERT_TRUE(sizes.first.ok() && sizes.first->has_value() && sizes.second.ok() && sizes.second->has_value());
  EXPECT_EQ(**sizes.first, **sizes.second) << "the case this test is about";
  auto manifest = client.get_manifest("dev/same-size", "second");
  ASSERT_TRUE(manifest.ok() && manifest->has_value());
  EXPECT_NE((*manifest)->body.find((*second_layers)->diff_ids[1]), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path()));
}

TEST_F(ImagePushTest, WrongCredentialsRegistryDownAndNoSuchImage) {
  RegistryClient wrong(RegistryEndpoint{registry_.address(), {"alice", "wrong"}, ""});
  auto refused = push(wrong, {"v1"});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("refused the credentials for user 'alice' (HTTP 401 UNAUTHORIZED"),
            std::string::npos)
      << refused.error().message;

  RegistryClient client(RegistryEndpoint{registry_.address(), {registry_.username(), registry_.password()}, ""});
  auto missing = push_image(engine_, client, "sha256:" + std::string(64, 'f'), "dev/hello-app", {"v1"}, scratch_.path(), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("the Docker Engine has no such image"), std::string::npos) << missing.error().message;

  registry_.stop();
  auto down = push(client, {"v1"});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().message, "cannot reach the registry at " + registry_.address() + ": Connection refused");
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path()));
}

}  // namespace
}  // namespace slipway
