// GET /api/v1/runs?limit=50 with 100 000 runs in the store: the target is p99 <= 20 ms.
// Fills a temporary store, starts the server in-process (the same Server `slipway serve` runs)
// and times sequential requests over one keep-alive connection, then prints p50/p99.
//
//   build/bench/api_runs_list_bench [runs=100000] [requests=2000]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "base/files.h"
#include "server/server.h"
#include "store/sqlite_database.h"
#include "store/store.h"

using namespace slipway;

namespace {

bool fill_store(const DataDirectory& data, int runs) {
  auto store = Store::open(data.database());
  if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), false;
  Status filled = (*store)->database().transaction([&]() -> Status {
    for (int i = 0; i < runs; ++i) {
      RunRecord run;
      run.repository = i % 3 ? "hello-app" : "data-task";
      run.source = "/srv/git/hello-app.git";
      run.commit = "0123456789abcdef0123456789abcdef01234567";
      run.branch = "main";
      run.trigger = "push";
      run.status = i % 5 ? RunStatus::passed : RunStatus::failed;
      run.reason = i % 5 ? "" : "unit: 2 tests failed";
      run.created_ms = run.started_ms = 1'700'000'000'000 + i * 1000;
      run.finished_ms = run.started_ms + 30'000;
      if (auto id = (*store)->create_run(run); !id) return id.error();
    }
    return {};
  });
  if (!filled) std::fprintf(stderr, "%s\n", filled.error().message.c_str());
  return filled.ok();
}

int connect_to(const std::string& address) {
  size_t colon = address.rfind(':');
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &server.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) return -1;
  return fd;
}

// One keep-alive request; returns the status (0 on a transport failure).
int get(int fd, const std::string& request, std::string& buffer) {
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return 0;
  buffer.clear();
  char chunk[65536];
  size_t head_end = std::string::npos, length = 0;
  while (true) {
    if (head_end == std::string::npos && (head_end = buffer.find("\r\n\r\n")) != std::string::npos) {
      size_t at = buffer.find("Content-Length: ");
      length = at == std::string::npos ? 0 : std::stoul(buffer.substr(at + 16));
    }
    if (head_end != std::string::npos && buffer.size() >= head_end + 4 + length) break;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return std::stoi(buffer.substr(9, 3));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 100'000;
  int requests = argc > 2 ? std::atoi(argv[2]) : 2000;
  TemporaryDirectory folder("slipway-bench-api");
  DataDirectory data{folder.path()};
  if (!fill_store(data, runs)) return 1;
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  ServerOptions options;
  options.data = data;
  options.config = config;
  options.admin_token = "bench-token-bench-token-bench-token";
  options.http_threads = 2;
  Server server(std::move(options));
  if (auto started = server.start(); !started) return std::fprintf(stderr, "%s\n", started.error().message.c_str()), 1;
  int fd = connect_to(server.address());
  if (fd < 0) return std::fprintf(stderr, "cannot connect to %s\n", server.address().c_str()), 1;
  std::string request = "GET /api/v1/runs?limit=50 HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer bench-token-bench-token-bench-token\r\n\r\n";
  std::string buffer;
  std::vector<double> latencies_ms;
  for (int i = 0; i < requests + 50; ++i) {
    auto start = std::chrono::steady_clock::now();
    int status = get(fd, request, buffer);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (status != 200) return std::fprintf(stderr, "request %d: status %d\n", i, status), 1;
    if (i >= 50) latencies_ms.push_back(ms);  // the first requests warm the caches
  }
  close(fd);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) { return latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))]; };
  std::printf("GET /api/v1/runs?limit=50 with %d runs, %d requests: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
              "(target p99 <= 20 ms: %s)\n",
              runs, requests, at(0.5), at(0.99), latencies_ms.back(), at(0.99) <= 20 ? "met" : "MISSED");
  server.stop();
  return at(0.99) <= 20 ? 0 : 1;
}
