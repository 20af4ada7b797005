#include "base/network_namespace.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/core.h>

#include "base/files.h"

namespace slipway {

int bring_loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct ifreq request {};
  std::memcpy(request.ifr_name, "lo", 3);
  int result = ::ioctl(fd, SIOCGIFFLAGS, &request);
  if (result == 0) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
    result = ::ioctl(fd, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return result;
}

Result<UniqueFd> create_network_namespace() {
  Result<UniqueFd> made = make_error("not started");
  std::thread maker([&made] {
    if (::unshare(CLONE_NEWNET) != 0) {
      made = make_error("cannot create a network namespace: " + errno_text(errno));
      return;
    }
    if (bring_loopback_up() != 0) {
      made = make_error("cannot bring a new network namespace's loopback up: " + errno_text(errno));
      return;
    }
    UniqueFd held(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!held.valid()) {
      made = make_error("cannot open a new network namespace: " + errno_text(errno));
      return;
    }
    made = std::move(held);
  });
  maker.join();
  return made;
}

std::filesystem::path network_namespace_path(const UniqueFd& namespace_fd) {
  return fmt::format("/proc/{}/fd/{}", ::getpid(), namespace_fd.get());
}

Status run_in_network_namespace(const std::filesystem::path& path, const std::function<Status()>& work) {
  Status done = make_error("not started");
  std::thread worker([&] {
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target.valid() || ::setns(target.get(), CLONE_NEWNET) != 0) {
      done = make_error(fmt::format("cannot enter the network namespace {}: {}", path.string(), errno_text(errno)));
      return;
    }
    done = work();
  });
  worker.join();
  return done;
}

}  // namespace slipway
