#include "publish/growing_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "publish/archive_library.h"

namespace slipway {

// The file as libarchive's data source: a read at the current end waits for the writer.
struct GrowingArchive::Source {
  int fd = -1;
  const std::atomic<bool>* writer_done = nullptr;
  std::vector<char> buffer = std::vector<char>(size_t{1} << 20);
};

namespace {

// Short enough not to matter beside a registry round trip; long enough not to spin.
constexpr auto kWaitForWriter = std::chrono::milliseconds(1);

la_ssize_t read_source(struct archive* archive, void* data, const void** block) {
  auto* source = static_cast<GrowingArchive::Source*>(data);
  *block = source->buffer.data();
  while (true) {
    // Read the flag first: a 0 from read() after the writer finished is the real end.
    bool finished = source->writer_done->load();
    ssize_t got = ::read(source->fd, source->buffer.data(), source->buffer.size());
    if (got > 0) return got;
    if (got < 0 && errno != EINTR) {
      archive_set_error(archive, errno, "%s", errno_text(errno).c_str());
      return -1;
    }
    if (got == 0 && finished) return 0;
    if (got == 0) std::this_thread::sleep_for(kWaitForWriter);
  }
}

}  // namespace

GrowingArchive::GrowingArchive(std::filesystem::path file, const std::atomic<bool>& writer_done)
    : file_(std::move(file)), source_(std::make_unique<Source>()) {
  source_->writer_done = &writer_done;
  source_->fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
  archive_ = archive_read_new();
  archive_read_support_format_tar(archive_);
  if (source_->fd >= 0) archive_read_open(archive_, source_.get(), nullptr, read_source, nullptr);
}

GrowingArchive::~GrowingArchive() {
  archive_read_free(archive_);
  if (source_->fd >= 0) ::close(source_->fd);
}

Error GrowingArchive::archive_error(const std::string& what) const {
  const char* why = archive_error_string(archive_);
  return make_error(fmt::format("{}: cannot {}: {}", file_.string(), what, why ? why : "unknown error"));
}

Result<std::optional<ArchiveMember>> GrowingArchive::next() {
  if (source_->fd < 0) return make_error(fmt::format("{}: cannot open it: {}", file_.string(), errno_text(errno)));
  if (Status usable = require_archive_library(); !usable) return usable.error();
  archive_entry* entry = nullptr;
  int status = archive_read_next_header(archive_, &entry);
  if (status == ARCHIVE_EOF) return std::optional<ArchiveMember>();
  if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return archive_error("read the image archive");
  ArchiveMember member;
  member.path = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
  while (starts_with(member.path, "./")) member.path.erase(0, 2);
  member.size = archive_entry_size(entry);
  member.regular = archive_entry_filetype(entry) == AE_IFREG && !archive_entry_hardlink(entry);
  return std::optional<ArchiveMember>(std::move(member));
}

Result<size_t> GrowingArchive::read(char* buffer, size_t size) {
  la_ssize_t got = archive_read_data(archive_, buffer, size);
  if (got < 0) return archive_error("read the image archive");
  return static_cast<size_t>(got);
}

Result<std::string> GrowingArchive::read_all(int64_t limit) {
  std::string data;
  std::vector<char> buffer(1 << 16);
  while (true) {
    auto got = read(buffer.data(), buffer.size());
    if (!got) return got.error();
    if (*got == 0) return data;
    if (static_cast<int64_t>(data.size() + *got) > limit) {
      return make_error(fmt::format("{}: a member is larger than the {} bytes it may have", file_.string(), limit));
    }
    data.append(buffer.data(), *got);
  }
}

}  // namespace slipway
