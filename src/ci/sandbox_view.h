// The file system a sandboxed step sees, as bubblewrap arguments: the toolchain read-only and
// the host's secrets masked. Shared by the job sandbox and its network holder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace slipway {

// /usr read-only; /bin, /sbin, /lib* as the host has them (symlinks into /usr on a merged-/usr
// system, read-only binds otherwise); /opt read-only when present.
std::vector<std::string> toolchain_arguments();

// /etc read-only without what only root should read: shadow and gshadow (and their backups),
// sudoers, SSH host keys, TLS private keys, Docker's and Slipway's own configuration, keytabs,
// VPN and network secrets.
std::vector<std::string> etc_arguments();

// Masks each of `hidden` that exists: an empty tmpfs over a folder, /dev/null over a file.
std::vector<std::string> hidden_path_arguments(const std::vector<std::filesystem::path>& hidden);

// The /etc entries etc_arguments() masks, for tests and docs.
std::vector<std::filesystem::path> masked_etc_entries();

}  // namespace slipway
