// sync_directory makes s3://bucket/prefix/ hold exactly the files of a local folder, the way
// `aws s3 sync --delete` does: new and changed files are uploaded, keys with no local file are
// deleted, unchanged ones are left alone. "Changed" is decided by content, not by time: the size
// differs, or the ETag is not the one the local file would get (an MD5, or a multipart ETag
// computed with the same part size). Files go in key order, uploads before deletes, so a file
// that moved is never missing in between. Symlinks leading outside the folder are refused: what
// is published never comes from outside the workspace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "publish/s3_client.h"

namespace slipway {

struct SyncOptions {
  bool delete_removed = true;  // false: like `aws s3 sync` without --delete
};

struct SyncSummary {
  int uploaded = 0;
  int deleted = 0;
  int unchanged = 0;
  int64_t bytes_uploaded = 0;
  std::vector<std::string> uploaded_keys;  // in key order
  std::vector<std::string> deleted_keys;
};

// Called with one line per upload and delete, and a last line with the totals.
using SyncProgress = std::function<void(const std::string& line)>;

// `prefix` "dags" and "dags/" mean the same folder; "" the whole bucket. An Error stops the sync
// where it is (what was uploaded stays, a multipart upload in flight is aborted); running it
// again finishes the job.
Result<SyncSummary> sync_directory(S3Client& client, const std::filesystem::path& local_dir, const std::string& bucket,
                                   const std::string& prefix, const SyncOptions& options = {},
                                   const SyncProgress& progress = {});

struct UploadedFile {
  std::string url;   // s3://bucket/key
  std::string etag;  // without quotes
};

// One file to one key (a function's zip): multipart above the client's threshold.
Result<UploadedFile> upload_file(S3Client& client, const std::filesystem::path& file, const std::string& bucket,
                                 const std::string& key);

}  // namespace slipway
