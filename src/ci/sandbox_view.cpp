#include "ci/sandbox_view.h"

#include <unistd.h>

#include <system_error>

namespace slipway {

namespace fs = std::filesystem;

namespace {

// Whole folders or single files; a name ending in '*' masks every entry of its folder starting
// with the rest (the SSH host keys).
constexpr const char* kMaskedEtc[] = {
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
    "/etc/ssh/ssh_host_*", "/etc/ssl/private", "/etc/security/opasswd", "/etc/docker", "/etc/slipway",
    "/etc/krb5.keytab", "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets", "/etc/NetworkManager/system-connections",
    "/etc/wireguard", "/etc/letsencrypt", "/etc/credstore", "/etc/credstore.encrypted", "/etc/subuid",
    "/etc/subgid",
};

using Kind = SandboxMount::Kind;

void mask(const fs::path& path, std::vector<SandboxMount>& mounts) {
  std::error_code error;
  auto status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) return;
  if (fs::is_directory(status)) {
    mounts.push_back({Kind::tmpfs, "mode=0755", path.string()});
  } else if (!fs::is_symlink(status)) {
    // A device bind: a read-only bind is mounted nodev, and a nodev /dev/null cannot be opened
    // at all; writes to this one vanish.
    mounts.push_back({Kind::bind_device, "/dev/null", path.string(), true});
  }
}

}  // namespace

std::vector<SandboxMount> toolchain_mounts() {
  std::vector<SandboxMount> mounts = {{Kind::bind_read_only, "/usr", "/usr"}};
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code error;
    auto status = fs::symlink_status(top, error);
    if (error || !fs::exists(status)) continue;
    if (fs::is_symlink(status)) {
      mounts.push_back({Kind::symlink, fs::read_symlink(top, error).string(), top});
    } else if (fs::is_directory(status)) {
      mounts.push_back({Kind::bind_read_only, top, top});
    }
  }
  std::error_code error;
  if (fs::is_directory("/opt", error)) mounts.push_back({Kind::bind_read_only, "/opt", "/opt"});
  return mounts;
}

std::vector<fs::path> masked_etc_entries() {
  std::vector<fs::path> entries;
  for (const char* name : kMaskedEtc) {
    std::string text = name;
    if (text.back() != '*') {
      entries.emplace_back(text);
      continue;
    }
    fs::path pattern(text.substr(0, text.size() - 1));
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(pattern.parent_path(), error)) {
      if (entry.path().filename().string().rfind(pattern.filename().string(), 0) == 0) entries.push_back(entry.path());
    }
  }
  return entries;
}

std::vector<SandboxMount> etc_mounts() {
  std::vector<SandboxMount> mounts = {{Kind::bind_read_only, "/etc", "/etc"}};
  for (const fs::path& entry : masked_etc_entries()) mask(entry, mounts);
  return mounts;
}

std::vector<SandboxMount> hidden_path_mounts(const std::vector<fs::path>& hidden) {
  std::vector<SandboxMount> mounts;
  for (const fs::path& path : hidden) {
    std::error_code error;
    fs::path real = fs::weakly_canonical(path, error);
    if (error) continue;
    // Only what lies in a tree the sandbox shows can be seen at all.
    for (const char* shown : {"/usr", "/opt", "/etc"}) {
      std::string prefix = std::string(shown) + "/";
      if (real.string().rfind(prefix, 0) == 0) {
        mask(real, mounts);
        break;
      }
    }
  }
  return mounts;
}

std::vector<SandboxMount> proc_and_dev_mounts() {
  std::vector<SandboxMount> mounts = {{Kind::proc, "", "/proc"}, {Kind::tmpfs, "mode=0755", "/dev"}};
  for (const char* device : {"null", "zero", "full", "random", "urandom", "tty"}) {
    mounts.push_back({Kind::bind_device, std::string("/dev/") + device, std::string("/dev/") + device, true});
  }
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},   {"/proc/self/fd/0", "/dev/stdin"},
                                                       {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
                                                       {"/proc/kcore", "/dev/core"},     {"pts/ptmx", "/dev/ptmx"}};
  for (const auto& [to, link] : links) mounts.push_back({Kind::symlink, to, link});
  mounts.push_back({Kind::devpts, "", "/dev/pts"});
  mounts.push_back({Kind::tmpfs, "mode=1777", "/dev/shm"});
  return mounts;
}

void resolve_sources(std::vector<SandboxMount>& mounts) {
  for (SandboxMount& mount : mounts) {
    if (mount.kind != Kind::bind_read_only && mount.kind != Kind::bind && mount.kind != Kind::bind_device) continue;
    std::error_code error;
    fs::path real = fs::weakly_canonical(mount.source, error);
    if (!error) mount.source = real.string();
  }
}

}  // namespace slipway
