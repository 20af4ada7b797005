// The mounts this process sees, as Linux lists them in /proc/self/mountinfo: where each is
// mounted, its file system type and that file system's options. Everything about reading that
// file is here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slipway {

struct MountEntry {
  std::string mount_point;    // unescaped (mountinfo writes a space as \040)
  std::string fs_type;        // "overlay", "tmpfs", …
  std::string super_options;  // e.g. "rw,lowerdir=…,upperdir=…,workdir=…" (paths still escaped)
};

// Every mount, in the kernel's order (parents before the mounts on top of them). Lines the
// format does not match are left out.
std::vector<MountEntry> read_mount_table();

// A path as mountinfo writes it, with its \ooo escapes (space, tab, newline, backslash) undone.
std::string unescape_mountinfo(std::string_view text);

}  // namespace slipway
