#include "publish/s3_etag.h"

#include <algorithm>
#include <charconv>

#include "base/crypto.h"

namespace slipway {

int64_t s3_part_size(int64_t file_size, int64_t preferred) {
  int64_t part_size = std::max(preferred, kS3MinPartSize);
  while (s3_part_count(file_size, part_size) > kS3MaxParts) part_size *= 2;
  return part_size;
}

int64_t s3_part_count(int64_t file_size, int64_t part_size) {
  return file_size <= 0 ? 1 : (file_size + part_size - 1) / part_size;
}

Result<std::string> s3_multipart_etag(const std::filesystem::path& file, int64_t file_size, int64_t part_size) {
  Digester of_parts(Digester::Algorithm::md5);
  int64_t count = s3_part_count(file_size, part_size);
  for (int64_t part = 0; part < count; ++part) {
    int64_t offset = part * part_size;
    auto md5 = md5_file_hex(file.string(), offset, std::min(part_size, file_size - offset));
    if (!md5) return md5.error();
    auto raw = from_hex(*md5);
    if (!raw) return raw.error();
    of_parts.update(*raw);
  }
  return of_parts.hex() + "-" + std::to_string(count);
}

Result<bool> s3_file_matches_etag(const std::filesystem::path& file, int64_t file_size, const std::string& etag,
                                  int64_t part_size) {
  size_t dash = etag.find('-');
  if (dash == std::string::npos) {
    auto md5 = md5_file_hex(file.string());
    if (!md5) return md5.error();
    return *md5 == etag;
  }
  int64_t parts = 0;
  std::string_view count(etag.data() + dash + 1, etag.size() - dash - 1);
  auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), parts);
  if (error != std::errc() || end != count.data() + count.size()) return false;  // not an ETag we can compute
  for (int64_t candidate : {s3_part_size(file_size, part_size), s3_part_size(file_size, 8 * 1024 * 1024)}) {
    if (s3_part_count(file_size, candidate) != parts) continue;
    auto computed = s3_multipart_etag(file, file_size, candidate);
    if (!computed) return computed.error();
    if (*computed == etag) return true;
  }
  return false;
}

}  // namespace slipway
