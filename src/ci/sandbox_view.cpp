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

void mask(const fs::path& path, std::vector<std::string>& argv) {
  std::error_code error;
  auto status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) return;
  if (fs::is_directory(status)) {
    argv.insert(argv.end(), {"--tmpfs", path.string()});
  } else if (!fs::is_symlink(status)) {
    // --dev-bind: a read-only bind is mounted nodev, and a nodev /dev/null cannot be opened at
    // all; writes to this one vanish.
    argv.insert(argv.end(), {"--dev-bind", "/dev/null", path.string()});
  }
}

}  // namespace

std::vector<std::string> toolchain_arguments() {
  std::vector<std::string> argv = {"--ro-bind", "/usr", "/usr"};
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code error;
    auto status = fs::symlink_status(top, error);
    if (error || !fs::exists(status)) continue;
    if (fs::is_symlink(status)) {
      argv.insert(argv.end(), {"--symlink", fs::read_symlink(top, error).string(), top});
    } else if (fs::is_directory(status)) {
      argv.insert(argv.end(), {"--ro-bind", top, top});
    }
  }
  std::error_code error;
  if (fs::is_directory("/opt", error)) argv.insert(argv.end(), {"--ro-bind", "/opt", "/opt"});
  return argv;
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

std::vector<std::string> etc_arguments() {
  std::vector<std::string> argv = {"--ro-bind", "/etc", "/etc"};
  for (const fs::path& entry : masked_etc_entries()) mask(entry, argv);
  return argv;
}

std::vector<std::string> hidden_path_arguments(const std::vector<fs::path>& hidden) {
  std::vector<std::string> argv;
  for (const fs::path& path : hidden) {
    std::error_code error;
    fs::path real = fs::weakly_canonical(path, error);
    if (error) continue;
    // Only what lies in a tree the sandbox shows can be seen at all.
    for (const char* shown : {"/usr", "/opt", "/etc"}) {
      std::string prefix = std::string(shown) + "/";
      if (real.string().rfind(prefix, 0) == 0) {
        mask(real, argv);
        break;
      }
    }
  }
  return argv;
}

}  // namespace slipway
