#include "publish/function_zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/files.h"
#include "base/strings.h"
#include "publish/archive_library.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// One entry of the zip, decided before anything is written: what the walk found, already
// checked, with the fixed mode it will carry.
struct ZipEntry {
  std::string name;          // path in the zip, '/'-separated; directories end with '/'
  fs::path source;           // where it is on disk
  mode_t mode = 0;           // file type and the fixed permission bits
  std::string link_target;   // symlinks only
  uintmax_t size = 0;        // regular files only
};

std::string describe(const fs::path& folder, const std::string& name) {
  return (folder / name).string();
}

// A name every extractor reads the same way: UTF-8, no backslash (a separator on Windows).
Status check_name(const fs::path& folder, const std::string& name) {
  if (sanitize_utf8(name) != name) {
    return make_error(fmt::format("{}: the file name is not UTF-8; rename it (zip names are UTF-8)",
                                  describe(folder, name)));
  }
  if (name.find('\\') != std::string::npos) {
    return make_error(fmt::format("{}: a backslash in a file name is a path separator on Windows; rename it",
                                  describe(folder, name)));
  }
  return {};
}

// A symlink is kept as a link only when it stays inside the folder both as written (so it
// still does once extracted elsewhere) and as resolved now (through other links).
Status check_symlink(const fs::path& root, const fs::path& link, const std::string& name, const fs::path& target) {
  if (target.empty() || target.is_absolute()) {
    return make_error(fmt::format("{}: symlink to '{}' is refused: a function zip keeps only relative links "
                                  "that point inside its folder", describe(root, name), target.string()));
  }
  fs::path lexical = (fs::path(name).parent_path() / target).lexically_normal();
  bool escapes = lexical.empty() || *lexical.begin() == "..";
  if (escapes || !path_is_within(root, link.parent_path() / target)) {
    return make_error(fmt::format("{}: symlink to '{}' points outside the folder {}; copy the file in or "
                                  "remove the link", describe(root, name), target.string(), root.string()));
  }
  return {};
}

bool is_executable(fs::perms permissions) {
  return (permissions & (fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec)) != fs::perms::none;
}

// Turns one thing found by the walk into an entry with its fixed mode, or refuses it.
Result<ZipEntry> entry_for(const fs::path& root, const fs::directory_entry& found) {
  std::error_code error;
  ZipEntry entry;
  entry.source = found.path();
  entry.name = found.path().lexically_relative(root).generic_string();
  if (Status named = check_name(root, entry.name); !named) return named.error();
  fs::file_status status = found.symlink_status(error);
  if (error) return make_error(fmt::format("{}: cannot stat: {}", entry.source.string(), error.message()));
  switch (status.type()) {
    case fs::file_type::directory:
      entry.name += '/';
      entry.mode = S_IFDIR | 0755;
      return entry;
    case fs::file_type::regular:
      entry.mode = S_IFREG | (is_executable(status.permissions()) ? 0755 : 0644);
      entry.size = found.file_size(error);
      if (error) return make_error(fmt::format("{}: cannot stat: {}", entry.source.string(), error.message()));
      return entry;
    case fs::file_type::symlink: {
      fs::path target = fs::read_symlink(entry.source, error);
      if (error) return make_error(fmt::format("{}: cannot read link: {}", entry.source.string(), error.message()));
      if (Status inside = check_symlink(root, entry.source, entry.name, target); !inside) return inside.error();
      entry.mode = S_IFLNK | 0777;
      entry.link_target = target.generic_string();
      return entry;
    }
    default:
      return make_error(fmt::format("{}: not a file, directory or symlink (a fifo, socket or device); "
                                    "a function zip cannot hold it", entry.source.string()));
  }
}

// Everything under `root`, checked, in the order the zip lists it. The walk never follows a
// symlink: links are entries, not folders to descend into.
Result<std::vector<ZipEntry>> collect_entries(const fs::path& root) {
  std::vector<ZipEntry> entries;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, error), end;
  for (; !error && it != end; it.increment(error)) {
    auto entry = entry_for(root, *it);
    if (!entry) return entry.error();
    entries.push_back(std::move(*entry));
  }
  if (error) return make_error(fmt::format("{}: cannot list: {}", root.string(), error.message()));
  std::sort(entries.begin(), entries.end(), [](const ZipEntry& a, const ZipEntry& b) { return a.name < b.name; });
  return entries;
}

// Where libarchive's output goes: the temporary file, hashed as it is written.
struct ZipSink {
  int fd = -1;
  int64_t bytes = 0;
  Digester digest;
  int write_errno = 0;
};

la_ssize_t write_to_sink(struct archive*, void* context, const void* data, size_t length) {
  auto* sink = static_cast<ZipSink*>(context);
  const char* bytes = static_cast<const char*>(data);
  size_t written = 0;
  while (written < length) {
    ssize_t n = ::write(sink->fd, bytes + written, length - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sink->write_errno = errno;
      return -1;
    }
    written += static_cast<size_t>(n);
  }
  sink->digest.update(std::string_view(bytes, length));
  sink->bytes += static_cast<int64_t>(length);
  return static_cast<la_ssize_t>(length);
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;

Error archive_error(struct archive* a, const ZipSink& sink, const std::string& what) {
  std::string reason = sink.write_errno ? errno_text(sink.write_errno)
                                        : (archive_error_string(a) ? archive_error_string(a) : "unknown error");
  return make_error(fmt::format("{}: {}", what, reason));
}

// The archive header of one entry. mtime is left unset on purpose: libarchive then writes no
// time into the extended-timestamp field, and the DOS time of an unset mtime is clamped to
// 1980-01-01 00:00:00 whatever the host's time zone (a set time would go through localtime()).
std::unique_ptr<archive_entry, EntryDeleter> header_for(const ZipEntry& entry) {
  std::unique_ptr<archive_entry, EntryDeleter> header(archive_entry_new());
  archive_entry_set_pathname_utf8(header.get(), entry.name.c_str());
  archive_entry_set_mode(header.get(), entry.mode);
  archive_entry_set_uid(header.get(), 0);
  archive_entry_set_gid(header.get(), 0);
  archive_entry_unset_mtime(header.get());
  archive_entry_unset_atime(header.get());
  archive_entry_unset_ctime(header.get());
  archive_entry_unset_birthtime(header.get());
  if (S_ISLNK(entry.mode)) {
    archive_entry_set_symlink_utf8(header.get(), entry.link_target.c_str());
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(entry.link_target.size()));
  } else {
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(entry.size));
  }
  return header;
}

// Streams one regular file's bytes into the archive; its size must still be the one recorded.
Status copy_file_data(struct archive* a, const ZipSink& sink, const ZipEntry& entry) {
  std::ifstream in(entry.source, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open: {}", entry.source.string(), errno_text(errno)));
  std::vector<char> buffer(1 << 16);
  uintmax_t copied = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    copied += static_cast<uintmax_t>(n);
    if (copied > entry.size) break;
    if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) < 0) {
      return archive_error(a, sink, fmt::format("{}: cannot add to the zip", entry.source.string()));
    }
  }
  if (in.bad()) return make_error(fmt::format("{}: read failed", entry.source.string()));
  if (copied != entry.size) {
    return make_error(fmt::format("{}: changed size while being zipped; zip a folder nothing is writing to",
                                  entry.source.string()));
  }
  return {};
}

Status write_entries(struct archive* a, const ZipSink& sink, const std::vector<ZipEntry>& entries) {
  for (const ZipEntry& entry : entries) {
    auto header = header_for(entry);
    if (archive_write_header(a, header.get()) != ARCHIVE_OK) {
      return archive_error(a, sink, fmt::format("{}: cannot add to the zip", entry.source.string()));
    }
    if (S_ISREG(entry.mode)) {
      if (Status copied = copy_file_data(a, sink, entry); !copied) return copied;
    }
    if (archive_write_finish_entry(a) != ARCHIVE_OK) {
      return archive_error(a, sink, fmt::format("{}: cannot add to the zip", entry.source.string()));
    }
  }
  return {};
}

// Writes the zip into the open file behind `sink`.
Status write_zip(ZipSink& sink, const std::vector<ZipEntry>& entries, const fs::path& zip_file) {
  if (Status usable = require_archive_library(); !usable) return usable;
  ArchivePtr a(archive_write_new());
  if (!a) return make_error("libarchive: out of memory");
  std::string what = fmt::format("cannot write {}", zip_file.string());
  // No padding after the end of the central directory (libarchive pads to 10 KiB blocks by
  // default); UTF-8 names flagged as such whatever the process's locale.
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK ||
      archive_write_zip_set_compression_deflate(a.get()) != ARCHIVE_OK ||
      archive_write_set_options(a.get(), "zip:hdrcharset=UTF-8") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open(a.get(), &sink, nullptr, write_to_sink, nullptr) != ARCHIVE_OK) {
    return archive_error(a.get(), sink, what);
  }
  if (Status written = write_entries(a.get(), sink, entries); !written) return written;
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_error(a.get(), sink, what);
  return {};
}

// The zip is built in a temporary sibling and renamed over `zip_file` only when complete.
Result<ZipSummary> write_atomically(const std::vector<ZipEntry>& entries, const fs::path& zip_file) {
  fs::path temporary = zip_file;
  temporary += fmt::format(".tmp{}", ::getpid());
  ZipSink sink;
  sink.fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (sink.fd < 0) return make_error(fmt::format("{}: cannot create: {}", temporary.string(), errno_text(errno)));
  Status written = write_zip(sink, entries, zip_file);
  if (written && ::fsync(sink.fd) != 0) written = make_error(fmt::format("{}: fsync: {}", temporary.string(), errno_text(errno)));
  ::close(sink.fd);
  if (written && ::rename(temporary.c_str(), zip_file.c_str()) != 0) {
    written = make_error(fmt::format("{}: cannot rename into place: {}", zip_file.string(), errno_text(errno)));
  }
  if (!written) {
    ::unlink(temporary.c_str());
    return written.error();
  }
  ZipSummary summary;
  summary.files = std::count_if(entries.begin(), entries.end(), [](const ZipEntry& e) { return !S_ISDIR(e.mode); });
  summary.bytes = sink.bytes;
  summary.sha256 = sink.digest.hex();
  return summary;
}

}  // namespace

Result<ZipSummary> write_function_zip(const fs::path& folder, const fs::path& zip_file) {
  std::error_code error;
  fs::path root = fs::canonical(folder, error);
  if (error || !fs::is_directory(root, error)) {
    return make_error(fmt::format("function folder {} does not exist or is not a folder", folder.string()));
  }
  if (path_is_within(root, fs::absolute(zip_file, error))) {
    return make_error(fmt::format("the zip {} would be inside the folder it packs ({}); write it elsewhere",
                                  zip_file.string(), folder.string()));
  }
  auto entries = collect_entries(root);
  if (!entries) return entries.error();
  return write_atomically(*entries, zip_file);
}

}  // namespace slipway
