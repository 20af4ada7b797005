// HttpServer in this process over real sockets: the bounds it keeps whatever clients do —
// SSE streams without a thread each, a connection cap answered 503, running out of memory or
// threads in a handler answered 503 instead of ending the process — and HTTP/1.0 answered as 1.0.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <poll.h>

#include <fstream>
#include <new>
#include <system_error>

#include "support/http_test_client.h"

namespace slipway::testing {
namespace {

void send_text(int fd, const std::string& text) { (void)send(fd, text.data(), text.size(), MSG_NOSIGNAL); }

// Reads until `marker` has arrived or the peer closed (or 10 s of silence: a test failure, not a wait).
std::string read_until(int fd, std::string_view marker) {
  std::string raw;
  char buffer[4096];
  while (raw.find(marker) == std::string::npos) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 10'000) <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  return raw;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

HttpResponse handle(HttpRequest& request) {
  if (request.path == "/oom") throw std::bad_alloc();
  if (request.path == "/threads") throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                                          "thread constructor failed");
  if (request.path == "/stream") {
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.events = [sent = false](const EventSend& send) mutable {
      if (!sent) send("hello", "{}");
      sent = true;
      return EventStep::idle;  // a follow of a step that never ends
    };
    return response;
  }
  return HttpResponse::text(200, "ok");
}

class HttpServerBounds : public ::testing::Test {
 protected:
  void start(int max_connections = 512) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.max_connections = max_connections;
    server_ = std::make_unique<HttpServer>(options, handle);
    ASSERT_TRUE(server_->start());
  }
  HttpAnswer get(const std::string& path) { return http_request(server_->address(), "GET", path); }

  std::unique_ptr<HttpServer> server_;
};

// Once stop() returns, nothing listens: a client is refused at once, never left in a backlog no
// one accepts from. Twenty starts and stops, as the close raced the threads' end.
TEST_F(HttpServerBounds, AfterStopConnectionsAreRefused) {
  for (int round = 0; round < 20; ++round) {
    start();
    std::string address = server_->address();
    server_->stop();
    int fd = connect_to(address);
    EXPECT_EQ(fd, -1) << "round " << round << ": something still listens on " << address;
    if (fd >= 0) close(fd);
    server_.reset();
  }
}

TEST_F(HttpServerBounds, AnHttp10RequestIsAnsweredInHttp10) {
  start();
  int fd = connect_to(server_->address());
  ASSERT_GE(fd, 0);
  send_text(fd, "GET /hello HTTP/1.0\r\n\r\n");
  std::string answer = read_until(fd, "ok");
  close(fd);
  EXPECT_EQ(answer.substr(0, 13), "HTTP/1.0 200 ") << answer;
  EXPECT_EQ(get("/hello").head.substr(0, 13), "HTTP/1.1 200 ");
  // An HTTP/1.0 refusal too (a malformed target).
  fd = connect_to(server_->address());
  send_text(fd, "GET nopath HTTP/1.0\r\n\r\n");
  answer = read_until(fd, "\r\n\r\n");
  close(fd);
  EXPECT_EQ(answer.substr(0, 13), "HTTP/1.0 400 ") << answer;
}

TEST_F(HttpServerBounds, RunningOutOfMemoryOrThreadsInAHandlerIs503NotACrash) {
  start();
  HttpAnswer memory = get("/oom");
  EXPECT_EQ(memory.status, 503);
  EXPECT_NE(memory.body.find("out of resources (memory)"), std::string::npos) << memory.body;
  EXPECT_NE(memory.body.find("retry later"), std::string::npos) << memory.body;
  HttpAnswer threads = get("/threads");
  EXPECT_EQ(threads.status, 503);
  EXPECT_NE(threads.body.find("thread constructor failed"), std::string::npos) << threads.body;
  EXPECT_EQ(get("/still-here").status, 200);
}

TEST_F(HttpServerBounds, ConnectionsPastTheCapAreRefusedAtOnceAndTheOthersKeepWorking) {
  start(4);
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(connect_to(server_->address()));
  int working = connect_to(server_->address());  // the fourth: keep-alive, in use
  send_text(working, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_until(working, "ok").find("HTTP/1.1 200"), std::string::npos);

  // The fifth is answered 503 and closed without the server reading its request.
  int excess = connect_to(server_->address());
  ASSERT_GE(excess, 0);
  std::string refused = read_until(excess, "\r\n\r\n{");
  refused += read_until(excess, "}");
  close(excess);
  EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 503") << refused;
  EXPECT_NE(refused.find("max_connections"), std::string::npos) << refused;

  // The connection in use still works.
  send_text(working, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_until(working, "ok").find("HTTP/1.1 200"), std::string::npos);
  // Once idle ones close, new connections are served again.
  for (int fd : idle) close(fd);
  close(working);
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    status = get("/c").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerBounds, TwoHundredStreamsTakeNoThreadEach) {
  start();
  int before = thread_count();
  std::vector<int> streams;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_to(server_->address());
    ASSERT_GE(fd, 0);
    send_text(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    streams.push_back(fd);
  }
  for (int fd : streams) {
    std::string start = read_until(fd, "event: hello\ndata: {}\n\n");
    ASSERT_NE(start.find("text/event-stream"), std::string::npos) << start;
    ASSERT_NE(start.find("event: hello"), std::string::npos) << start;
  }
  EXPECT_LE(thread_count(), before);  // the pool's two threads serve them all
  EXPECT_EQ(get("/meanwhile").status, 200);
  // stop() ends every stream: each client reads the end of its connection.
  server_->stop();
  for (int fd : streams) {
    char byte;
    pollfd ready{fd, POLLIN, 0};
    ASSERT_EQ(poll(&ready, 1, 10'000), 1);
    EXPECT_EQ(recv(fd, &byte, 1, 0), 0);
    close(fd);
  }
}

}  // namespace
}  // namespace slipway::testing
