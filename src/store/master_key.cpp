#include "store/master_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/unique_fd.h"
#include "base/files.h"
#include "base/strings.h"

namespace slipway {
namespace {

bool is_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return make_error(fmt::format("cannot write {}: {}", path.string(), errno_text(errno)));
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return {};
}

// Reads the key file through one descriptor, so the permissions checked are those of the file
// read (no window between a stat() and an open()).
Result<std::string> read_key_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return make_error(fmt::format("cannot read the master key {}: {}", path.string(), errno_text(errno)));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
    return make_error(fmt::format("the master key {} is not a regular file", path.string()));
  }
  if ((status.st_mode & 077) != 0) {
    return make_error(fmt::format("the master key {} may be read by other users (mode {:o}): run `chmod 600 {}`",
                                  path.string(), status.st_mode & 0777, path.string()));
  }
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("cannot read the master key {}: {}", path.string(), errno_text(errno)));
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > 4096) break;  // no key file is that long; parse_master_key says so
  }
  return parse_master_key(text, path.string());
}

// Writes a fresh key to a private temporary file, then link()s it into place: link() fails
// rather than replace an existing name, so of two processes creating the key at once exactly
// one wins and the other reads the winner's — nobody ever sees a half-written key. The folder is
// synced too, since secrets sealed under a key that a crash then loses are lost with it.
Result<std::string> create_key_file(const std::filesystem::path& path) {
  std::string key = random_bytes(kSecretKeyBytes);
  std::string temporary = (path.parent_path() / ".master.key.XXXXXX").string();
  UniqueFd fd(::mkostemp(temporary.data(), O_CLOEXEC));  // O_EXCL, mode 0600
  if (fd.get() < 0) {
    return make_error(fmt::format("cannot create the master key in {}: {}", path.parent_path().string(),
                                  errno_text(errno)));
  }
  Status written = write_all(fd.get(), to_base64(key) + "\n", temporary);
  if (written && ::fsync(fd.get()) != 0) written = make_error(fmt::format("cannot sync {}: {}", temporary, errno_text(errno)));
  int linked = written ? ::link(temporary.c_str(), path.c_str()) : -1;
  int link_error = errno;
  ::unlink(temporary.c_str());
  if (!written) return written.error();
  if (linked != 0 && link_error == EEXIST) return read_key_file(path);
  if (linked != 0) return make_error(fmt::format("cannot create the master key {}: {}", path.string(), errno_text(link_error)));
  UniqueFd folder(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder.get() >= 0) ::fsync(folder.get());
  return key;
}

}  // namespace

std::filesystem::path master_key_file(const std::filesystem::path& data_root) { return data_root / "master.key"; }

Result<std::string> parse_master_key(std::string_view text, std::string_view origin) {
  std::string_view trimmed = trim(text);
  const std::string expected = "32 bytes, written as base64 (44 characters) or as 64 hex digits";
  if (trimmed.empty()) return make_error(fmt::format("{} is empty: it must hold {}", origin, expected));
  if (trimmed.size() == 2 * kSecretKeyBytes && is_hex(trimmed)) return from_hex(trimmed);
  auto decoded = from_base64(trimmed);
  if (!decoded || decoded->size() != kSecretKeyBytes) {
    return make_error(fmt::format("{} is not a master key: it must hold {} (it holds {} characters that are "
                                  "neither; generate one with `head -c 32 /dev/urandom | base64`)",
                                  origin, expected, trimmed.size()));
  }
  return decoded;
}

Result<std::string> load_master_key(const std::filesystem::path& data_root,
                                    const std::optional<std::string>& from_variable) {
  if (from_variable) return parse_master_key(*from_variable, kMasterKeyVariable);
  std::filesystem::path path = master_key_file(data_root);
  std::error_code error;
  if (std::filesystem::exists(path, error)) return read_key_file(path);
  return create_key_file(path);
}

}  // namespace slipway
