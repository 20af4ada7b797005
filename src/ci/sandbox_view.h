// The file system a sandboxed step sees, as mounts (base/child_process.h's SandboxMount): the
// toolchain read-only and the host's secrets masked.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/child_process.h"

namespace slipway {

// /usr read-only; /bin, /sbin, /lib* as the host has them (symlinks into /usr on a merged-/usr
// system, read-only binds otherwise); /opt read-only when present.
std::vector<SandboxMount> toolchain_mounts();

// /etc read-only without what only root should read: shadow and gshadow (and their backups),
// sudoers, SSH host keys, TLS private keys, Docker's and Slipway's own configuration, keytabs,
// VPN and network secrets.
std::vector<SandboxMount> etc_mounts();

// Masks each of `hidden` that exists: an empty tmpfs over a folder, /dev/null over a file.
std::vector<SandboxMount> hidden_path_mounts(const std::vector<std::filesystem::path>& hidden);

// A private /proc and a minimal /dev: null, zero, full, random, urandom and tty from the host, a
// private devpts for terminals, a /dev/shm, and the usual links into /proc/self/fd.
std::vector<SandboxMount> proc_and_dev_mounts();

// Resolves the host path of every bind to one without symbolic links (/var/run/docker.sock ->
// /run/docker.sock), as SandboxMount's source must be.
void resolve_sources(std::vector<SandboxMount>& mounts);

// The /etc entries etc_mounts() masks, for tests and docs.
std::vector<std::filesystem::path> masked_etc_entries();

}  // namespace slipway
