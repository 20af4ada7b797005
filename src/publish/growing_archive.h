// GrowingArchive: reads a tar archive member by member while another thread is still writing
// the file (DockerEngine::export_image), so that an image's layers can go to the registry as
// `docker save` produces them instead of after it. At the current end of the file it waits for
// more until told the writer has finished; only then is the end of the file the end of the
// archive. The file is left whole on disk for any later pass (image_archive.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

struct archive;  // libarchive's reader, kept out of this header

namespace slipway {

struct ArchiveMember {
  std::string path;      // as stored, cleaned of a leading "./"
  int64_t size = 0;
  bool regular = false;  // false for directories, symlinks and hard links
};

class GrowingArchive {
 public:
  // `writer_done` turns true once the writer has closed the file (successfully or not). The
  // constructor already reads (the format is sniffed): start the writer first.
  GrowingArchive(std::filesystem::path file, const std::atomic<bool>& writer_done);
  ~GrowingArchive();
  GrowingArchive(const GrowingArchive&) = delete;
  GrowingArchive& operator=(const GrowingArchive&) = delete;

  // The next member's header; nullopt at the end of the archive. Skips the rest of the current
  // member's data. An Error for a truncated or malformed archive.
  Result<std::optional<ArchiveMember>> next();
  // The current member's data: fills up to `size` bytes, 0 at the member's end.
  Result<size_t> read(char* buffer, size_t size);
  // The whole current member, refused when it is larger than `limit` (for small JSON members).
  Result<std::string> read_all(int64_t limit);

  struct Source;
 private:
  Error archive_error(const std::string& what) const;

  std::filesystem::path file_;
  std::unique_ptr<Source> source_;
  ::archive* archive_ = nullptr;
};

}  // namespace slipway
