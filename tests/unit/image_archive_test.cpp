// unpack_image_archive on hand-made `docker save` archives: layers extracted byte for byte and
// checked against the config's diff_ids, repeated layers written as links, and broken archives.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/image_archive.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

struct Member {
  std::string path;
  std::string data;
  std::string symlink;   // when set, the member is a link to this
};

void write_tar(const fs::path& file, const std::vector<Member>& members) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const Member& member : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, member.path.c_str());
    if (!member.symlink.empty()) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, member.symlink.c_str());
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, static_cast<la_int64_t>(member.data.size()));
    }
    archive_entry_set_perm(entry, 0644);
    archive_write_header(a, entry);
    if (member.symlink.empty()) archive_write_data(a, member.data.data(), member.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string config_with(const std::vector<std::string>& diff_ids) {
  std::string list;
  for (const auto& id : diff_ids) list += (list.empty() ? "\"" : ",\"") + id + "\"";
  return "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + list + "]}}";
}

std::string manifest_with(const std::string& config, const std::vector<std::string>& layers) {
  std::string list;
  for (const auto& layer : layers) list += (list.empty() ? "\"" : ",\"") + layer + "\"";
  return "[{\"Config\":\"" + config + "\",\"RepoTags\":[\"x:y\"],\"Layers\":[" + list + "]}]";
}

class ImageArchiveTest : public ::testing::Test {
 protected:
  const std::string layer_ = "pretend these are a layer's tar bytes";
  const std::string diff_id_ = "sha256:" + sha256_hex(layer_);
  TemporaryDirectory folder_{"slipway-image-archive"};
  fs::path tar_ = folder_.path() / "saved.tar";
  fs::path into_ = folder_.path() / "out";
};

TEST_F(ImageArchiveTest, UnpacksLayersAndFollowsLinksForRepeatedOnes) {
  std::string config = config_with({diff_id_, diff_id_});
  std::string config_name = sha256_hex(config) + ".json";
  write_tar(tar_, {{"aaa/layer.tar", layer_},
                   {"bbb/layer.tar", "", "../aaa/layer.tar"},
                   {config_name, config},
                   {"manifest.json", manifest_with(config_name, {"aaa/layer.tar", "bbb/layer.tar"})}});
  auto archive = unpack_image_archive(tar_, into_);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  EXPECT_EQ(archive->config_json, config);
  EXPECT_EQ(archive->config_digest, "sha256:" + sha256_hex(config));
  ASSERT_EQ(archive->layers.size(), 2u);
  for (const auto& layer : archive->layers) {
    EXPECT_EQ(layer.diff_id, diff_id_);
    EXPECT_EQ(layer.file, into_ / "aaa/layer.tar");
    EXPECT_EQ(layer.size, static_cast<int64_t>(layer_.size()));
  }
  EXPECT_EQ(*read_file(into_ / "aaa/layer.tar"), layer_);
}

TEST_F(ImageArchiveTest, ALayerThatDisagreesWithTheConfigFails) {
  std::string other = "sha256:" + sha256_hex("something else");
  std::string config = config_with({other});
  write_tar(tar_, {{"aaa/layer.tar", layer_}, {"c.json", config},
                   {"manifest.json", manifest_with("c.json", {"aaa/layer.tar"})}});
  auto archive = unpack_image_archive(tar_, into_);
  ASSERT_FALSE(archive.ok());
  EXPECT_NE(archive.error().message.find("layer 1 (aaa/layer.tar) has " + diff_id_ + " but the config says " + other),
            std::string::npos)
      << archive.error().message;
}

TEST_F(ImageArchiveTest, BrokenArchivesAreRefusedWithTheReason) {
  write_tar(tar_, {{"aaa/layer.tar", layer_}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("no manifest.json"), std::string::npos);

  write_tar(tar_, {{"c.json", config_with({diff_id_})}, {"manifest.json", "{\"not\": \"a list\"}"}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("manifest.json is not a list"), std::string::npos);

  write_tar(tar_, {{"c.json", config_with({diff_id_})},
                   {"manifest.json", manifest_with("c.json", {"../escape/layer.tar"})}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("leaves the archive"), std::string::npos);
  EXPECT_FALSE(fs::exists(folder_.path() / "escape"));

  write_tar(tar_, {{"aaa/layer.tar", layer_}, {"c.json", config_with({diff_id_, diff_id_})},
                   {"manifest.json", manifest_with("c.json", {"aaa/layer.tar"})}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("lists 1 layers but the config has 2"),
            std::string::npos);

  write_tar(tar_,
            {{"c.json", config_with({diff_id_})}, {"manifest.json", manifest_with("c.json", {"gone/layer.tar"})}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("gone/layer.tar named by manifest.json is missing"),
            std::string::npos);

  write_tar(tar_, {{"manifest.json", manifest_with("absent.json", {})}});
  EXPECT_NE(unpack_image_archive(tar_, into_).error().message.find("absent.json named by manifest.json is missing"),
            std::string::npos);

  EXPECT_FALSE(unpack_image_archive(folder_.path() / "no-such.tar", into_).ok());
}

}  // namespace
}  // namespace slipway
