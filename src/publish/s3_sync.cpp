#include "publish/s3_sync.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "publish/s3_etag.h"

namespace slipway {

namespace {

namespace fs = std::filesystem;

struct LocalFile {
  std::string relative;  // "sub/a.py": the key below the prefix
  fs::path path;
  int64_t size = 0;
};

std::string folder_prefix(std::string prefix) {
  while (starts_with(prefix, "/")) prefix.erase(0, 1);
  if (!prefix.empty() && !ends_with(prefix, "/")) prefix += '/';
  return prefix;
}

std::string human_size(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
}

// A symlink is followed only to a file inside `root`; a link to a directory inside is skipped
// (its files are published from where they really are).
Result<bool> accept_symlink(const fs::path& root, const fs::directory_entry& entry, const SyncProgress& progress) {
  std::error_code error;
  fs::path target = fs::canonical(entry.path(), error);
  if (error) return make_error(fmt::format("cannot publish {}: it is a broken symlink", entry.path().string()));
  if (!path_is_within(root, entry.path())) {
    return make_error(fmt::format("refusing to publish {}: it is a symlink to {}, outside {}", entry.path().string(),
                                  target.string(), root.string()));
  }
  if (fs::is_directory(target)) {
    if (progress) progress(fmt::format("skip {}: a symlink to a directory inside the folder", entry.path().string()));
    return false;
  }
  return true;
}

// Every file under `root`, sorted by key. Only regular files (directly or through an accepted
// symlink); sockets, pipes and devices are errors rather than silently left out.
Result<std::vector<LocalFile>> list_local_files(const fs::path& root, const SyncProgress& progress) {
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    return make_error(fmt::format("cannot sync {}: it is not a directory", root.string()));
  }
  std::vector<LocalFile> files;
  fs::recursive_directory_iterator it(root, error), end;
  for (; !error && it != end; it.increment(error)) {
    const fs::directory_entry& entry = *it;
    if (entry.is_symlink()) {
      auto accepted = accept_symlink(root, entry, progress);
      if (!accepted) return accepted.error();
      if (!*accepted) continue;
    } else if (entry.is_directory()) {
      continue;
    }
    if (!fs::is_regular_file(entry.path())) {
      return make_error(fmt::format("cannot publish {}: not a regular file", entry.path().string()));
    }
    auto size = static_cast<int64_t>(fs::file_size(entry.path(), error));
    if (error) break;
    files.push_back({entry.path().lexically_relative(root).generic_string(), entry.path(), size});
  }
  if (error) return make_error(fmt::format("cannot read the folder {}: {}", root.string(), error.message()));
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.relative < b.relative; });
  return files;
}

// Unchanged when S3 holds the same size and the ETag this content would get.
Result<bool> is_unchanged(S3Client& client, const LocalFile& file, const std::map<std::string, S3Object>& remote,
                          const std::string& key) {
  auto found = remote.find(key);
  if (found == remote.end() || found->second.size != file.size) return false;
  return s3_file_matches_etag(file.path, file.size, found->second.etag, client.options().part_size);
}

}  // namespace

Result<SyncSummary> sync_directory(S3Client& client, const fs::path& local_dir, const std::string& bucket,
                                   const std::string& prefix, const SyncOptions& options,
                                   const SyncProgress& progress) {
  const std::string folder = folder_prefix(prefix);
  auto local = list_local_files(local_dir, progress);
  if (!local) return local.error();
  auto listed = client.list_objects(bucket, folder);
  if (!listed) return listed.error();
  std::map<std::string, S3Object> remote;
  for (S3Object& object : *listed) remote.emplace(object.key, std::move(object));

  SyncSummary summary;
  for (const LocalFile& file : *local) {
    std::string key = folder + file.relative;
    auto unchanged = is_unchanged(client, file, remote, key);
    if (!unchanged) return unchanged.error();
    remote.erase(key);
    if (*unchanged) {
      ++summary.unchanged;
      continue;
    }
    if (progress) progress(fmt::format("upload {} → s3://{}/{} ({})", file.relative, bucket, key, human_size(file.size)));
    auto etag = client.put_file(bucket, key, file.path);
    if (!etag) return etag.error();
    ++summary.uploaded;
    summary.bytes_uploaded += file.size;
    summary.uploaded_keys.push_back(key);
  }

  if (options.delete_removed && !remote.empty()) {
    for (const auto& [key, object] : remote) {
      if (progress) progress(fmt::format("delete s3://{}/{}", bucket, key));
      summary.deleted_keys.push_back(key);
    }
    if (Status deleted = client.delete_objects(bucket, summary.deleted_keys); !deleted) return deleted.error();
    summary.deleted = static_cast<int>(summary.deleted_keys.size());
  }
  if (progress) {
    progress(fmt::format("synced {} to s3://{}/{}: {} uploaded ({}), {} deleted, {} unchanged", local_dir.string(),
                         bucket, folder, summary.uploaded, human_size(summary.bytes_uploaded), summary.deleted,
                         summary.unchanged));
  }
  return summary;
}

Result<UploadedFile> upload_file(S3Client& client, const fs::path& file, const std::string& bucket,
                                 const std::string& key) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    return make_error(fmt::format("cannot upload {} to s3://{}/{}: not a regular file", file.string(), bucket, key));
  }
  auto etag = client.put_file(bucket, key, file);
  if (!etag) return etag.error();
  return UploadedFile{"s3://" + bucket + "/" + key, *etag};
}

}  // namespace slipway
