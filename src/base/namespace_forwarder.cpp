#include "base/namespace_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "base/child_process.h"
#include "base/files.h"
#include "base/network_namespace.h"

namespace slipway {

namespace {

constexpr size_t kBufferBytes = 64 * 1024;

// The listening socket, made inside the namespace by a thread of its own (the socket stays
// there after the thread leaves).
Result<UniqueFd> listen_inside(const std::filesystem::path& network_namespace, int port) {
  UniqueFd listener;
  Status listening = run_in_network_namespace(network_namespace, [&]() -> Status {
    listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!listener.valid() || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener.get(), 64) != 0) {
      return make_error(fmt::format("cannot listen on 127.0.0.1:{} in the namespace: {}", port, errno_text(errno)));
    }
    return {};
  });
  if (!listening) return listening.error();
  return listener;
}

struct Pair {
  UniqueFd inside, outside;
  std::string to_outside, to_inside;  // read, not yet written
  bool inside_done = false, outside_done = false;  // their input has ended
  bool outside_hung = false;  // hung up entirely: not polled any more (it would report so forever)
};

// Moves what `from` has to `pending`, then as much of `pending` as `to` takes. False once the
// pair is over (either side closed or failed and nothing is left to write).
bool pump(int from, int to, std::string& pending, bool& from_done) {
  char buffer[kBufferBytes];
  if (!from_done && pending.size() < kBufferBytes) {
    ssize_t got = ::read(from, buffer, sizeof buffer);
    if (got > 0) pending.append(buffer, static_cast<size_t>(got));
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) from_done = true;
  }
  if (!pending.empty()) {
    ssize_t sent = ::send(to, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (sent > 0) pending.erase(0, static_cast<size_t>(sent));
    if (sent < 0 && errno != EAGAIN && errno != EINTR) return false;
  }
  if (from_done && pending.empty()) ::shutdown(to, SHUT_WR);
  return true;
}

}  // namespace

struct NamespaceForwarder::Impl {
  UniqueFd listener;
  UniqueFd wake;  // eventfd: the destructor's "stop"
  sockaddr_in target{};
  std::thread relay;

  void serve() {
    std::vector<std::unique_ptr<Pair>> pairs;
    while (true) {
      std::vector<pollfd> polled = {{wake.get(), POLLIN, 0}, {listener.get(), POLLIN, 0}};
      for (const auto& pair : pairs) {
        auto events = [](bool done, const std::string& pending) {
          return static_cast<short>((done ? 0 : POLLIN) | (pending.empty() ? 0 : POLLOUT));
        };
        polled.push_back({pair->inside.get(), events(pair->inside_done, pair->to_inside), 0});
        polled.push_back({pair->outside_hung ? -1 : pair->outside.get(), events(pair->outside_done, pair->to_outside), 0});
      }
      if (::poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR) return;
      if (polled[0].revents) return;
      std::vector<std::unique_ptr<Pair>> still;
      for (size_t i = 0; i < pairs.size(); ++i) {
        Pair& pair = *pairs[i];
        bool alive = pump(pair.inside.get(), pair.outside.get(), pair.to_outside, pair.inside_done) &&
                     pump(pair.outside.get(), pair.inside.get(), pair.to_inside, pair.outside_done) &&
                     !(pair.inside_done && pair.outside_done && pair.to_inside.empty() && pair.to_outside.empty());
        // The command's side hung up entirely: nothing more can reach it, the pair is over. The
        // target's side hung up: what it sent is still delivered, then the pair ends.
        const short gone = POLLHUP | POLLERR;
        if (pair.inside_done && (polled[2 + 2 * i].revents & gone)) alive = false;
        if (pair.outside_done && (polled[3 + 2 * i].revents & gone)) pair.outside_hung = true;
        if (pair.outside_hung && pair.to_inside.empty()) alive = false;
        if (alive) still.push_back(std::move(pairs[i]));
      }
      pairs = std::move(still);
      if (polled[1].revents & POLLIN) accept_one(pairs);
    }
  }

  void accept_one(std::vector<std::unique_ptr<Pair>>& pairs) {
    UniqueFd inside(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!inside.valid()) return;
    // A blocking connect to the server's own loopback: immediate, or refused at once.
    UniqueFd outside(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!outside.valid() || ::connect(outside.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
      return;  // the command sees its connection closed, as it would with nothing listening
    }
    ::fcntl(outside.get(), F_SETFL, ::fcntl(outside.get(), F_GETFL) | O_NONBLOCK);
    auto pair = std::make_unique<Pair>();
    pair->inside = std::move(inside);
    pair->outside = std::move(outside);
    pairs.push_back(std::move(pair));
  }
};

Result<std::unique_ptr<NamespaceForwarder>> NamespaceForwarder::start(const std::filesystem::path& network_namespace,
                                                                      int listen_port, const std::string& target_host,
                                                                      int target_port) {
  auto impl = std::make_unique<Impl>();
  impl->target.sin_family = AF_INET;
  impl->target.sin_port = htons(static_cast<uint16_t>(target_port));
  if (::inet_pton(AF_INET, target_host.c_str(), &impl->target.sin_addr) != 1) {
    return make_error(fmt::format("cannot forward to {}: not an IPv4 address", target_host));
  }
  auto listener = listen_inside(network_namespace, listen_port);
  if (!listener) return listener.error();
  impl->listener = std::move(*listener);
  impl->wake.reset(::eventfd(0, EFD_CLOEXEC));
  if (!impl->wake.valid()) return make_error(fmt::format("cannot create an eventfd: {}", errno_text(errno)));
  Impl* serving = impl.get();
  impl->relay = std::thread([serving] { serving->serve(); });
  return std::unique_ptr<NamespaceForwarder>(new NamespaceForwarder(std::move(impl)));
}

NamespaceForwarder::NamespaceForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NamespaceForwarder::~NamespaceForwarder() {
  uint64_t one = 1;
  (void)!::write(impl_->wake.get(), &one, sizeof one);
  if (impl_->relay.joinable()) impl_->relay.join();
}

}  // namespace slipway
