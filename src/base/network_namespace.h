// Network namespaces the server makes and works in itself, without a program: each on a thread
// of its own that ends right after, because unshare(2) and setns(2) move only the calling
// thread, and no other work of the server may ever run inside a job's namespace.
//
// A namespace made here is kept alive by the descriptor alone (no process need be in it): it
// ends when the last descriptor closes and the last process in it exits, so a server that dies
// (even by kill -9) leaves none behind. It belongs to the server's user namespace, so only root
// on the host can change its addresses, routes, rules or sysctls.
#pragma once

#include <filesystem>
#include <functional>

#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway {

// Sets the loopback interface of the calling thread's network namespace up. Raw system calls
// only (a sandbox's init calls it between clone and exec): 0, or -1 with errno.
int bring_loopback_up();

// A new network namespace with its loopback up, held by the descriptor returned (needs
// CAP_SYS_ADMIN). Errors say which system call failed.
Result<UniqueFd> create_network_namespace();

// A path other processes (and this one) can open to reach a namespace held by `namespace_fd`:
// /proc/<this process>/fd/<fd>. Valid while the descriptor stays open.
std::filesystem::path network_namespace_path(const UniqueFd& namespace_fd);

// Runs `work` on a thread of its own inside the namespace at `path` (/proc/PID/ns/net or a
// network_namespace_path), and waits for it. Sockets it makes stay in that namespace.
Status run_in_network_namespace(const std::filesystem::path& path, const std::function<Status()>& work);

}  // namespace slipway
