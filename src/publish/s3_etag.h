// The ETag S3 gives an object, computed from a local file, so a sync can tell an unchanged file
// without downloading anything: the MD5 of the content for a single PUT, and for a multipart
// upload the MD5 of the parts' raw MD5s followed by "-<part count>" — which depends on the part
// size, so the part size rule lives here too, shared by the uploader and the comparer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/result.h"

namespace slipway {

inline constexpr int64_t kS3MinPartSize = 5 * 1024 * 1024;  // S3 refuses smaller parts (but the last)
inline constexpr int64_t kS3MaxParts = 10'000;

// `preferred` (at least kS3MinPartSize), doubled until the file fits in kS3MaxParts parts.
int64_t s3_part_size(int64_t file_size, int64_t preferred);
int64_t s3_part_count(int64_t file_size, int64_t part_size);

// "<md5 of the parts' MD5s>-<N>" for `file` uploaded in parts of `part_size` bytes.
Result<std::string> s3_multipart_etag(const std::filesystem::path& file, int64_t file_size, int64_t part_size);

// Whether `file` has the content whose ETag is `etag` (quotes already stripped), computed in the
// ETag's own form: a plain MD5, or a multipart ETag tried with `part_size` and with the AWS CLI's
// 8 MiB (an object uploaded with another part size is seen as changed and uploaded again).
Result<bool> s3_file_matches_etag(const std::filesystem::path& file, int64_t file_size, const std::string& etag,
                                  int64_t part_size);

}  // namespace slipway
