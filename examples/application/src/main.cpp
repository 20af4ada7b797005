// hello-app: the example application Slipway tests, publishes and deploys.
//
// Listens on 127.0.0.1:$PORT ($PORT=0 picks a free port; the chosen one is printed, which is how
// the tests find it without a race). One thread per connection keeps the code short; it is
// fine for a demo's load and would be the first thing to change for a real one.
//
// SIGTERM (or SIGINT) starts a graceful stop, which is what blue/green draining relies on: the
// listening socket is closed at once, idle keep-alive connections are closed, requests already
// being received are finished and answered with "Connection: close", then the process exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "http_request.h"
#include "routes.h"

namespace {

constexpr int kIdleTimeoutMs = 30'000;     // a keep-alive connection with nothing to say
constexpr int kRequestTimeoutMs = 10'000;  // a request that started but does not finish
constexpr auto kShutdownGrace = std::chrono::seconds(10);

// Written once by the signal handler and never read, so it stays readable: every poll() that
// includes it wakes up. That makes it a broadcast "stop" to the accept loop and all connections.
int stop_pipe[2] = {-1, -1};
std::atomic<bool> stopping{false};

std::mutex connections_mutex;
std::condition_variable connections_done;
int open_connections = 0;

void on_stop_signal(int) {
  stopping.store(true);
  const char byte = 1;
  [[maybe_unused]] auto ignored = write(stop_pipe[1], &byte, 1);
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

int status_for(hello::ParseStatus status) {
  switch (status) {
    case hello::ParseStatus::too_large: return 431;
    case hello::ParseStatus::unsupported: return 501;
    default: return 400;
  }
}

void serve_connection(int fd, const hello::AppConfig& config) {
  std::string buffer;
  for (;;) {
    hello::ParseResult parsed = hello::parse_request(buffer);
    if (parsed.status == hello::ParseStatus::complete) {
      hello::Response response = hello::route(parsed.request, config);
      if (!parsed.request.keep_alive() || stopping.load()) response.close = true;
      if (!send_all(fd, hello::serialize(response, parsed.request.method == "HEAD"))) break;
      if (response.close) break;
      buffer.erase(0, parsed.consumed);
      continue;
    }
    if (parsed.status != hello::ParseStatus::incomplete) {
      send_all(fd, hello::serialize(hello::error_response(status_for(parsed.status))));
      break;
    }

    // Between requests a stop closes the connection; in the middle of one we finish it first.
    const bool idle = buffer.empty();
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
    const int ready = poll(fds, idle ? 2 : 1, idle ? kIdleTimeoutMs : kRequestTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    // Bytes already sent win over the stop: a request that reached us before the signal is
    // answered even if this thread had not read it yet.
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) break;  // only the stop woke us
    char chunk[4096];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  close(fd);
  std::lock_guard lock(connections_mutex);
  if (--open_connections == 0) connections_done.notify_all();
}

int fail(const char* what) {
  std::fprintf(stderr, "hello-app: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main() {
  const char* port_text = std::getenv("PORT");
  const long port = port_text ? std::strtol(port_text, nullptr, 10) : 8080;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "hello-app: PORT must be 0..65535, got '%s'\n", port_text);
    return 2;
  }
  hello::AppConfig config;
  if (const char* version = std::getenv("APP_VERSION"); version && *version) {
    config.version = version;
  }

  if (pipe(stop_pipe) != 0) return fail("pipe");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return fail("socket");
  const int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, by design
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return fail("bind 127.0.0.1");
  }
  if (listen(listener, 128) != 0) return fail("listen");
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("hello-app: listening on 127.0.0.1:%d version %s\n", ntohs(address.sin_port),
              config.version.c_str());
  std::fflush(stdout);

  for (;;) {
    pollfd fds[2] = {{listener, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail("poll");
    }
    if (fds[1].revents & POLLIN) break;
    const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the client gave up, or we ran out of fds: keep serving others
    {
      std::lock_guard lock(connections_mutex);
      ++open_connections;
    }
    std::thread(serve_connection, fd, std::cref(config)).detach();
  }

  close(listener);  // from here on new connections are refused, so the router moves on
  std::unique_lock lock(connections_mutex);
  std::printf("hello-app: stopping, draining %d connection(s)\n", open_connections);
  std::fflush(stdout);
  const bool drained = connections_done.wait_for(lock, kShutdownGrace,
                                                 [] { return open_connections == 0; });
  std::printf("hello-app: stopped%s\n", drained ? "" : " (grace period over)");
  std::fflush(stdout);
  // Connection threads still running would race static destructors in exit(); skip them.
  if (!drained) _exit(0);
  return 0;
}
