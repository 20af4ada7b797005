// HttpServer: HTTP/1.1 on one TCP address, served by a pool of threads (Boost.Beast behind a
// pimpl, so no other file pays for its headers). It parses each request, refuses what it must
// before the application sees it — a body over `max_body_bytes` gets 413 as soon as its
// Content-Length is read, an unparsable request 400 — and hands the rest to one handler.
// Keep-alive is honoured; a request is answered in its own HTTP version (1.0 or 1.1). A response
// with `events` set becomes a Server-Sent Events stream driven by a timer on the same pool —
// no thread per stream. At most `max_connections` connections are open at once: one more is
// answered 503 and closed at once, without reading it, so the open ones keep their threads.
// Running out of memory or threads while serving a request (std::bad_alloc, std::system_error)
// answers that request 503; it never ends the process. stop() closes the listener, lets
// in-flight requests finish (briefly), ends every stream and joins the threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "server/http_router.h"

namespace slipway {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:7700";   // host:port; port 0 picks a free port
  int threads = 0;                         // 0: the number of cores (at least 2)
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};   // a keep-alive connection silent this long is closed
  int max_connections = 512;               // open connections (streams included); more: 503
};

// Called once per request after its response is written (or failed): for the request log and
// the metrics. `request` may hold only method and path when the request could not be parsed.
using ResponseObserver = std::function<void(const HttpRequest& request, int status,
                                            std::chrono::microseconds elapsed)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, ResponseObserver observer = nullptr);
  ~HttpServer();  // stop()s

  // Binds and starts the threads. Error when the address is malformed or cannot be bound
  // (the message names it and the system's reason).
  Status start();
  // "127.0.0.1:7700", the address actually bound (useful with port 0). Valid after start().
  std::string address() const;
  // Idempotent. Returns when every thread has finished.
  void stop();

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
