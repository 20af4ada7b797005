#include "publish/image_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/archive_library.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kLargestManifest = 4 << 20;    // JSON files: a real one is a few kilobytes
constexpr int64_t kLargestConfig = 16 << 20;

struct ReaderDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<struct archive, ReaderDeleter>;

Result<Reader> open_archive(const fs::path& tar) {
  if (Status usable = require_archive_library(); !usable) return usable.error();
  Reader reader(archive_read_new());
  archive_read_support_format_tar(reader.get());
  archive_read_support_filter_all(reader.get());  // `docker save | gzip` reads the same
  if (archive_read_open_filename(reader.get(), tar.c_str(), 1 << 16) != ARCHIVE_OK) {
    return make_error(fmt::format("{}: cannot open the image archive: {}", tar.string(),
                                  archive_error_string(reader.get())));
  }
  return reader;
}

Error read_error(struct archive* a, const fs::path& tar) {
  const char* why = archive_error_string(a);
  return make_error(fmt::format("{}: cannot read the image archive: {}", tar.string(), why ? why : "unknown error"));
}

// Archive paths compared cleaned ("./a/layer.tar" is "a/layer.tar"); "" for one that would
// leave the archive's root.
std::string clean_path(const fs::path& path) {
  fs::path normal = path.lexically_normal();
  if (normal.empty() || normal.is_absolute() || *normal.begin() == "..") return "";
  std::string text = normal.generic_string();
  return text == "." ? "" : text;
}

// What a first pass over the headers learns: manifest.json and the links between members.
struct ArchiveIndex {
  std::string manifest;
  std::map<std::string, std::string> links;   // member -> the member it stands for
};

Result<std::string> read_member(struct archive* a, archive_entry* entry, int64_t limit, const fs::path& tar) {
  if (archive_entry_size(entry) > limit) {
    return make_error(fmt::format("{}: {} is {} bytes, too large for what it should be", tar.string(),
                                  archive_entry_pathname(entry), archive_entry_size(entry)));
  }
  std::string data(static_cast<size_t>(archive_entry_size(entry)), '\0');
  la_ssize_t got = archive_read_data(a, data.data(), data.size());
  if (got < 0 || static_cast<size_t>(got) != data.size()) return read_error(a, tar);
  return data;
}

Result<ArchiveIndex> index_archive(const fs::path& tar) {
  auto reader = open_archive(tar);
  if (!reader) return reader.error();
  struct archive* a = reader->get();
  ArchiveIndex index;
  archive_entry* entry = nullptr;
  int status;
  while ((status = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
    std::string name = clean_path(archive_entry_pathname(entry));
    if (name == "manifest.json") {
      auto text = read_member(a, entry, kLargestManifest, tar);
      if (!text) return text.error();
      index.manifest = std::move(*text);
    } else if (const char* hardlink = archive_entry_hardlink(entry)) {
      index.links[name] = clean_path(hardlink);
    } else if (archive_entry_filetype(entry) == AE_IFLNK) {
      index.links[name] = clean_path(fs::path(name).parent_path() / archive_entry_symlink(entry));
    }
  }
  if (status != ARCHIVE_EOF) return read_error(a, tar);
  if (index.manifest.empty()) {
    return make_error(fmt::format("{}: no manifest.json: not an archive written by `docker save`", tar.string()));
  }
  return index;
}

Result<std::string> resolve_member(const ArchiveIndex& index, std::string name, const fs::path& tar) {
  for (int hops = 0; hops < 16; ++hops) {
    auto link = index.links.find(name);
    if (link == index.links.end()) return name;
    if (link->second.empty()) break;
    name = link->second;
  }
  return make_error(fmt::format("{}: {} is a link that leads nowhere inside the archive", tar.string(), name));
}

struct Manifest {
  std::string config;
  std::vector<std::string> layers;
};

Result<Manifest> parse_manifest(const ArchiveIndex& index, const fs::path& tar) {
  nlohmann::json json = nlohmann::json::parse(index.manifest, nullptr, false);
  auto bad = make_error(fmt::format("{}: manifest.json is not a list of images with a Config and Layers",
                                    tar.string()));
  if (!json.is_array() || json.empty() || !json[0].is_object()) return bad;
  const nlohmann::json& image = json[0];
  if (!image.contains("Config") || !image["Config"].is_string() || !image.contains("Layers") ||
      !image["Layers"].is_array()) {
    return bad;
  }
  Manifest manifest;
  auto config = resolve_member(index, clean_path(image["Config"].get<std::string>()), tar);
  if (!config) return config.error();
  manifest.config = *config;
  for (const auto& layer : image["Layers"]) {
    if (!layer.is_string()) return bad;
    auto member = resolve_member(index, clean_path(layer.get<std::string>()), tar);
    if (!member) return member.error();
    if (member->empty()) return make_error(fmt::format("{}: a layer path leaves the archive", tar.string()));
    manifest.layers.push_back(*member);
  }
  return manifest;
}

struct Extracted {
  std::string digest;   // sha256:…
  int64_t size = 0;
};

// Writes the member's bytes to `file`, hashing them on the way.
Result<Extracted> extract_member(struct archive* a, const fs::path& file, const fs::path& tar) {
  if (Status made = make_directories(file.parent_path()); !made) return made.error();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wb"), std::fclose);
  if (!out) {
    return make_error(fmt::format("{}: cannot create it to unpack a layer: {}", file.string(), errno_text(errno)));
  }
  Digester digest;
  Extracted extracted;
  std::vector<char> buffer(1 << 16);
  for (la_ssize_t got; (got = archive_read_data(a, buffer.data(), buffer.size())) != 0;) {
    if (got < 0) return read_error(a, tar);
    if (std::fwrite(buffer.data(), 1, static_cast<size_t>(got), out.get()) != static_cast<size_t>(got)) {
      return make_error(fmt::format("{}: cannot write the layer: {}", file.string(), errno_text(errno)));
    }
    digest.update(std::string_view(buffer.data(), static_cast<size_t>(got)));
    extracted.size += got;
  }
  if (std::fclose(out.release()) != 0) return make_error(fmt::format("{}: cannot write the layer", file.string()));
  extracted.digest = "sha256:" + digest.hex();
  return extracted;
}

// The second pass: the config into memory, each layer named by the manifest into `into`.
Status extract_image(const fs::path& tar, const Manifest& manifest, const fs::path& into, std::string& config,
                     std::map<std::string, Extracted>& layers) {
  auto reader = open_archive(tar);
  if (!reader) return reader.error();
  struct archive* a = reader->get();
  std::set<std::string> wanted(manifest.layers.begin(), manifest.layers.end());
  archive_entry* entry = nullptr;
  int status;
  while ((status = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) continue;
    std::string name = clean_path(archive_entry_pathname(entry));
    if (name == manifest.config) {
      auto text = read_member(a, entry, kLargestConfig, tar);
      if (!text) return text.error();
      config = std::move(*text);
    } else if (wanted.count(name) && !layers.count(name)) {
      auto extracted = extract_member(a, into / name, tar);
      if (!extracted) return extracted.error();
      layers[name] = *extracted;
    }
  }
  if (status != ARCHIVE_EOF) return read_error(a, tar);
  return {};
}

Result<std::vector<std::string>> config_diff_ids(const std::string& config, const fs::path& tar) {
  nlohmann::json json = nlohmann::json::parse(config, nullptr, false);
  std::vector<std::string> diff_ids;
  if (json.is_object() && json.contains("rootfs") && json["rootfs"].is_object() &&
      json["rootfs"].contains("diff_ids") && json["rootfs"]["diff_ids"].is_array()) {
    for (const auto& id : json["rootfs"]["diff_ids"]) {
      if (id.is_string()) diff_ids.push_back(id.get<std::string>());
    }
    return diff_ids;
  }
  return make_error(fmt::format("{}: the image config has no rootfs.diff_ids", tar.string()));
}

}  // namespace

Result<ImageArchive> unpack_image_archive(const fs::path& tar, const fs::path& into) {
  auto index = index_archive(tar);
  if (!index) return index.error();
  auto manifest = parse_manifest(*index, tar);
  if (!manifest) return manifest.error();
  ImageArchive archive;
  std::map<std::string, Extracted> extracted;
  if (Status done = extract_image(tar, *manifest, into, archive.config_json, extracted); !done) return done.error();
  if (archive.config_json.empty()) {
    return make_error(
        fmt::format("{}: the config {} named by manifest.json is missing", tar.string(), manifest->config));
  }
  archive.config_digest = "sha256:" + sha256_hex(archive.config_json);
  auto diff_ids = config_diff_ids(archive.config_json, tar);
  if (!diff_ids) return diff_ids.error();
  if (diff_ids->size() != manifest->layers.size()) {
    return make_error(fmt::format("{}: manifest.json lists {} layers but the config has {} diff_ids", tar.string(),
                                  manifest->layers.size(), diff_ids->size()));
  }
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    const std::string& name = manifest->layers[i];
    auto found = extracted.find(name);
    if (found == extracted.end()) {
      return make_error(fmt::format("{}: the layer {} named by manifest.json is missing", tar.string(), name));
    }
    if (found->second.digest != (*diff_ids)[i]) {
      return make_error(fmt::format("{}: layer {} ({}) has {} but the config says {}: the archive is corrupt",
                                    tar.string(), i + 1, name, found->second.digest, (*diff_ids)[i]));
    }
    archive.layers.push_back({found->second.digest, into / name, found->second.size});
  }
  return archive;
}

}  // namespace slipway
