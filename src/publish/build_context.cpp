#include "publish/build_context.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "base/files.h"
#include "publish/archive_library.h"
#include "publish/dockerignore.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// What a walk of the folder needs at every level.
struct ContextWalk {
  fs::path folder;
  std::string dockerfile;
  DockerIgnore ignore;
  std::vector<BuildContextEntry> entries;
};

// A link is kept only when, read lexically from where it sits, it stays inside the folder: the
// daemon resolves it inside the context, so one that climbs out would name nothing there at
// best and smuggle a host path into the image's meaning at worst.
Status check_link(const ContextWalk& walk, const std::string& path, const std::string& target) {
  fs::path resolved = (fs::path(path).parent_path() / target).lexically_normal();
  bool escapes = fs::path(target).is_absolute() || resolved.empty() || *resolved.begin() == "..";
  if (!escapes) return {};
  return make_error(fmt::format(
      "{}: a symlink to {}, outside the build context; links are never followed out of it. Copy the "
      "file into the folder, or list the link in .dockerignore",
      (walk.folder / path).string(), target));
}

bool always_sent(const ContextWalk& walk, const std::string& path) {
  return path == walk.dockerfile || path == ".dockerignore";
}

// An excluded folder is skipped whole unless an exception rule or the Dockerfile may lie inside.
bool worth_entering(const ContextWalk& walk, const std::string& path) {
  return walk.ignore.has_exceptions() || walk.dockerfile.starts_with(path + "/");
}

Status walk_folder(ContextWalk& walk, const std::string& relative) {
  std::error_code error;
  fs::directory_iterator it(walk.folder / relative, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::string name = it->path().filename().string();
    std::string path = relative.empty() ? name : relative + "/" + name;
    fs::file_status status = it->symlink_status(error);
    if (error) break;
    bool excluded = walk.ignore.excludes(path) && !always_sent(walk, path);
    if (fs::is_directory(status)) {
      if (!excluded) walk.entries.push_back({path, BuildContextEntry::Kind::directory});
      if (!excluded || worth_entering(walk, path)) {
        if (Status inner = walk_folder(walk, path); !inner) return inner;
      }
    } else if (excluded) {
      continue;
    } else if (fs::is_symlink(status)) {
      std::string target = fs::read_symlink(it->path(), error).string();
      if (error) break;
      if (Status kept = check_link(walk, path, target); !kept) return kept;
      walk.entries.push_back({path, BuildContextEntry::Kind::symlink, target});
    } else if (fs::is_regular_file(status)) {
      int64_t size = static_cast<int64_t>(it->file_size(error));
      if (error) break;
      bool executable = (status.permissions() & (fs::perms::owner_exec | fs::perms::group_exec |
                                                 fs::perms::others_exec)) != fs::perms::none;
      walk.entries.push_back({path, BuildContextEntry::Kind::file, "", size, executable});
    }
    // sockets, pipes and devices: not content, and Docker leaves them out too
  }
  if (error) {
    return make_error(fmt::format("{}: cannot read the build context: {}", (walk.folder / relative).string(),
                                  error.message()));
  }
  return {};
}

Status check_dockerfile(const fs::path& folder, std::string_view dockerfile) {
  fs::path relative = fs::path(dockerfile).lexically_normal();
  if (relative.empty() || relative.is_absolute() || *relative.begin() == "..") {
    return make_error(fmt::format("the Dockerfile '{}' must be a path inside the build context {}", dockerfile,
                                  folder.string()));
  }
  std::error_code error;
  if (!fs::is_regular_file(fs::symlink_status(folder / relative, error))) {
    return make_error(fmt::format("{}: no such Dockerfile in the build context (publish.image.dockerfile names "
                                  "it, relative to the repository's root)",
                                  (folder / relative).string()));
  }
  return {};
}

}  // namespace

Result<std::vector<BuildContextEntry>> list_build_context(const fs::path& folder, std::string_view dockerfile) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    return make_error(fmt::format("{}: the build context is not a folder", folder.string()));
  }
  if (Status found = check_dockerfile(folder, dockerfile); !found) return found.error();
  ContextWalk walk{folder, fs::path(dockerfile).lexically_normal().generic_string(), {}, {}};
  if (fs::exists(folder / ".dockerignore", error)) {
    auto rules = read_file(folder / ".dockerignore");
    if (!rules) return rules.error();
    walk.ignore = DockerIgnore::parse(*rules);
  }
  if (Status walked = walk_folder(walk, ""); !walked) return walked.error();
  std::sort(walk.entries.begin(), walk.entries.end(),
            [](const BuildContextEntry& a, const BuildContextEntry& b) { return a.path < b.path; });
  return std::move(walk.entries);
}

namespace {

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::unique_ptr<archive_entry, EntryDeleter> tar_header(const BuildContextEntry& entry) {
  std::unique_ptr<archive_entry, EntryDeleter> header(archive_entry_new());
  archive_entry* h = header.get();
  archive_entry_copy_pathname(h, entry.path.c_str());
  archive_entry_set_uid(h, 0);
  archive_entry_set_gid(h, 0);
  archive_entry_set_mtime(h, 0, 0);
  switch (entry.kind) {
    case BuildContextEntry::Kind::directory:
      archive_entry_set_filetype(h, AE_IFDIR);
      archive_entry_set_perm(h, 0755);
      break;
    case BuildContextEntry::Kind::symlink:
      archive_entry_set_filetype(h, AE_IFLNK);
      archive_entry_set_perm(h, 0777);
      archive_entry_copy_symlink(h, entry.link_target.c_str());
      break;
    case BuildContextEntry::Kind::file:
      archive_entry_set_filetype(h, AE_IFREG);
      archive_entry_set_perm(h, entry.executable ? 0755 : 0644);
      archive_entry_set_size(h, entry.size);
      break;
  }
  return header;
}

Error tar_error(struct archive* a, const fs::path& tar_file, const std::string& what) {
  const char* why = archive_error_string(a);
  return make_error(fmt::format("{}: {}: {}", tar_file.string(), what, why ? why : "unknown error"));
}

// Copies exactly entry.size bytes: the size is already in the header, so a file that grew or
// shrank since the listing would corrupt the stream.
Status copy_file_data(struct archive* a, const fs::path& source, const BuildContextEntry& entry,
                      const fs::path& tar_file) {
  std::ifstream in(source, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read it for the build context", source.string()));
  std::vector<char> buffer(1 << 16);
  int64_t left = entry.size;
  while (left > 0) {
    in.read(buffer.data(), static_cast<std::streamsize>(std::min<int64_t>(left, buffer.size())));
    auto got = static_cast<int64_t>(in.gcount());
    if (got <= 0) break;
    if (archive_write_data(a, buffer.data(), static_cast<size_t>(got)) < 0) {
      return tar_error(a, tar_file, "cannot add " + entry.path);
    }
    left -= got;
  }
  if (left != 0 || in.peek() != std::char_traits<char>::eof()) {
    return make_error(fmt::format("{}: changed size while the build context was written; try again",
                                  source.string()));
  }
  return {};
}

}  // namespace

Status write_build_context(const fs::path& folder, const fs::path& tar_file, std::string_view dockerfile) {
  auto entries = list_build_context(folder, dockerfile);
  if (!entries) return entries.error();
  if (Status usable = require_archive_library(); !usable) return usable;
  std::unique_ptr<struct archive, ArchiveDeleter> tar(archive_write_new());
  struct archive* a = tar.get();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, tar_file.c_str()) != ARCHIVE_OK) {
    return tar_error(a, tar_file, "cannot create the build context");
  }
  for (const BuildContextEntry& entry : *entries) {
    auto header = tar_header(entry);
    if (archive_write_header(a, header.get()) != ARCHIVE_OK) return tar_error(a, tar_file, "cannot add " + entry.path);
    if (entry.kind == BuildContextEntry::Kind::file) {
      if (Status copied = copy_file_data(a, folder / entry.path, entry, tar_file); !copied) return copied;
    }
  }
  if (archive_write_close(a) != ARCHIVE_OK) return tar_error(a, tar_file, "cannot finish the build context");
  return {};
}

}  // namespace slipway
