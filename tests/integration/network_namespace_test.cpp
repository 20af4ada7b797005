// base/network_namespace.h against the real kernel, as root: a namespace the server makes on a
// thread of its own, held by a descriptor with no process in it, entered by a child through its
// path, worked in by a thread — and never the namespace of the thread that asked.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/core.h>

#include "base/child_process.h"
#include "base/network_namespace.h"
#include "base/ports.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

// The calling thread's network namespace, as its nsfs inode.
ino_t thread_namespace() {
  struct stat info {};
  EXPECT_EQ(::stat("/proc/thread-self/ns/net", &info), 0);
  return info.st_ino;
}

ino_t inode_of(int fd) {
  struct stat info {};
  EXPECT_EQ(::fstat(fd, &info), 0);
  return info.st_ino;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

sockaddr_in loopback_address(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A TCP socket listening on 127.0.0.1:port in the calling thread's namespace, or -1.
int listen_on(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback_address(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool connects_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback_address(port);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

class NetworkNamespace : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "making a network namespace needs root";
  }
};

TEST_F(NetworkNamespace, ANewOneIsHeldByItsDescriptorAloneAndTheCallerStaysWhereItWas) {
  const ino_t ours = thread_namespace();
  auto held = create_network_namespace();
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_NE(inode_of(held->get()), ours);
  EXPECT_EQ(thread_namespace(), ours) << "the calling thread must never be moved into a job's namespace";
  // The thread that made it has ended: the descriptor alone keeps it, and its path reaches it.
  fs::path path = network_namespace_path(*held);
  EXPECT_EQ(path, fs::path(fmt::format("/proc/{}/fd/{}", ::getpid(), held->get())));
  ino_t inside = 0;
  std::string interfaces;
  short loopback_flags = 0;
  Status worked = run_in_network_namespace(path, [&]() -> Status {
    inside = thread_namespace();
    interfaces = read_text("/proc/thread-self/net/dev");
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    if (::ioctl(fd, SIOCGIFFLAGS, &request) == 0) loopback_flags = request.ifr_flags;
    ::close(fd);
    return {};
  });
  ASSERT_TRUE(worked.ok()) << worked.error().message;
  EXPECT_EQ(inside, inode_of(held->get()));
  EXPECT_EQ(thread_namespace(), ours);
  EXPECT_NE(interfaces.find("lo:"), std::string::npos) << interfaces;
  EXPECT_EQ(std::count(interfaces.begin(), interfaces.end(), ':'), 1) << "only a loopback: " << interfaces;
  EXPECT_TRUE(loopback_flags & IFF_UP) << "the loopback is up";
}

TEST_F(NetworkNamespace, ItsLoopbackIsItsOwn) {
  auto held = create_network_namespace();
  ASSERT_TRUE(held.ok()) << held.error().message;
  auto port = free_loopback_port();
  ASSERT_TRUE(port.ok()) << port.error().message;
  int listener = -1;
  bool reached_inside = false;
  Status worked = run_in_network_namespace(network_namespace_path(*held), [&]() -> Status {
    listener = listen_on(*port);  // stays in the namespace after the thread leaves
    reached_inside = connects_to(*port);
    return {};
  });
  ASSERT_TRUE(worked.ok()) << worked.error().message;
  ASSERT_GE(listener, 0) << "cannot listen on 127.0.0.1 inside";
  EXPECT_TRUE(reached_inside) << "127.0.0.1 inside answers inside";
  EXPECT_FALSE(connects_to(*port)) << "the host's 127.0.0.1 is another loopback";
  ::close(listener);
}

TEST_F(NetworkNamespace, AChildEntersItByItsPath) {
  auto held = create_network_namespace();
  ASSERT_TRUE(held.ok()) << held.error().message;
  SpawnRequest request{{"/usr/bin/readlink", "/proc/self/ns/net"}, {}, "/"};
  request.enter.network_namespace = network_namespace_path(*held);
  auto child = ChildProcess::spawn(request);
  ASSERT_TRUE(child.ok()) << child.error().message;
  std::string out;
  char buffer[256];
  for (ssize_t got = 1; got != 0;) {
    pollfd ready{child->stdout_fd().get(), POLLIN, 0};
    ::poll(&ready, 1, 5000);
    got = ::read(ready.fd, buffer, sizeof buffer);
    if (got > 0) out.append(buffer, static_cast<size_t>(got));
    if (got < 0 && errno != EAGAIN) break;
  }
  child->reap();
  EXPECT_EQ(out, fmt::format("net:[{}]\n", inode_of(held->get())));
}

TEST_F(NetworkNamespace, ANamespaceThatIsGoneIsNamedAndNothingRuns) {
  fs::path gone;
  {
    auto held = create_network_namespace();
    ASSERT_TRUE(held.ok()) << held.error().message;
    gone = network_namespace_path(*held);
  }
  bool ran = false;
  Status worked = run_in_network_namespace(gone, [&]() -> Status {
    ran = true;
    return {};
  });
  ASSERT_FALSE(worked.ok());
  EXPECT_NE(worked.error().message.find(gone.string()), std::string::npos) << worked.error().message;
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace slipway
