#include "spec/spec_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include <fmt/core.h>

#include "base/files.h"
#include "base/git_objects.h"
#include "base/strings.h"

namespace slipway {
namespace {

constexpr std::string_view kHeadsPrefix = "refs/heads/";

// How messages name the revision: "commit 1a2b3c4d5e6f" or "branch 'main'".
std::string describe_revision(const std::string& revision) {
  if (starts_with(revision, kHeadsPrefix)) return fmt::format("branch '{}'", revision.substr(kHeadsPrefix.size()));
  return fmt::format("commit {}", revision.substr(0, 12));
}

std::string too_big(std::string_view where, uint64_t size) {
  return fmt::format("{} is {} bytes: a .slipway.yml may be at most {} KiB (nothing of it was read)", where, size,
                     kMaxSpecFileBytes / 1024);
}

// Why an entry is not read, naming the problem only: "" when it is a regular file.
std::string refusal(const GitTreeEntry& entry, const std::string& where) {
  if (entry.mode == "120000") {
    return fmt::format("{} is a symbolic link: it must be a regular file (the link is not followed)", where);
  }
  if (entry.mode == "160000") return fmt::format("{} is a submodule: it must be a regular file", where);
  if (entry.mode == "40000") return fmt::format("{} is a directory: it must be a regular file", where);
  if (entry.mode != "100644" && entry.mode != "100755") {
    return fmt::format("{} is not a regular file (mode {}): it must be one", where, entry.mode);
  }
  return "";
}

}  // namespace

Result<std::string> read_spec_at_revision(const std::filesystem::path& repository, const std::string& revision) {
  std::string where = fmt::format("the {} of {}", kSpecFileName, describe_revision(revision));
  std::shared_ptr<GitObjects> objects = GitObjects::of(repository);
  auto commit = objects->info(revision + "^{commit}");
  if (!commit) return make_error(fmt::format("cannot read {}: {}", where, commit.error().message));
  if (!*commit) return make_error(fmt::format("cannot read {}: {} has no such commit", where, repository.string()));
  auto entry = objects->root_entry((*commit)->id, kSpecFileName);
  if (!entry) return make_error(fmt::format("cannot read {}: {}", where, entry.error().message));
  if (!*entry) {
    return make_error(fmt::format("{} has no {} at the repository root: add one (see docs/slipway-yml.md)",
                                  describe_revision(revision), kSpecFileName));
  }
  if (std::string refused = refusal(**entry, where); !refused.empty()) return make_error(refused);
  // The size first, by object id, so what is read is the blob whose size was just checked.
  auto blob = objects->info((*entry)->id);
  if (!blob || !*blob || (*blob)->type != "blob") return make_error(fmt::format("cannot read {}: git has no such blob", where));
  if ((*blob)->size > kMaxSpecFileBytes) return make_error(too_big(where, (*blob)->size));
  auto text = objects->contents((*entry)->id, (*blob)->size);
  if (!text) return make_error(fmt::format("cannot read {}: {}", where, text.error().message));
  return std::move(*text);
}

Result<std::string> read_spec_file(const std::filesystem::path& path) {
  // O_NOFOLLOW: a symlink is refused, not followed; O_NONBLOCK: a FIFO cannot hang the open.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ELOOP) {
    return make_error(fmt::format("{} is a symbolic link: a .slipway.yml must be a regular file (the link is not "
                                  "followed; name its target instead)", path.string()));
  }
  if (fd < 0) return make_error(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
  struct stat status {};
  std::string text;
  std::string problem;
  if (::fstat(fd, &status) != 0) {
    problem = fmt::format("cannot read {}: {}", path.string(), errno_text(errno));
  } else if (!S_ISREG(status.st_mode)) {
    problem = fmt::format("{} is not a regular file: a .slipway.yml must be one", path.string());
  } else if (static_cast<uint64_t>(status.st_size) > kMaxSpecFileBytes) {
    problem = too_big(path.string(), static_cast<uint64_t>(status.st_size));
  } else {
    // One byte more than allowed is asked for, so a file that grew since fstat is caught too.
    text.resize(kMaxSpecFileBytes + 1);
    size_t filled = 0;
    for (ssize_t n; filled < text.size() && (n = ::read(fd, text.data() + filled, text.size() - filled)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = fmt::format("cannot read {}: {}", path.string(), errno_text(errno));
        break;
      }
      filled += static_cast<size_t>(n);
    }
    text.resize(filled);
    if (problem.empty() && filled > kMaxSpecFileBytes) {
      problem = fmt::format("{} grew past {} KiB while it was read: a .slipway.yml may be at most that",
                            path.string(), kMaxSpecFileBytes / 1024);
    }
  }
  ::close(fd);
  if (!problem.empty()) return make_error(problem);
  return text;
}

}  // namespace slipway
