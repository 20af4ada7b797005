// Boost.Beast lives only in this file. Each accepted connection is a Session reading requests
// asynchronously on the pool's io_context; handlers run on the pool thread that read the
// request (SQLite queries are short). A Server-Sent Events response stays on the io_context
// too: the Session calls its producer, writes what it sent, and waits on a timer when it is
// idle. (Streams used to get a thread each and blocked between events: 200 follows made 200
// threads, and a failed thread creation ended the server.)
#include <utility>  // before Boost.Asio: a C++20 header-order bug in Boost 1.74

#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "server/url.h"

namespace slipway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
// A refused body is read and dropped (up to this much, for at most kDrainTime) before closing,
// so the client reads our 413 instead of a connection reset.
constexpr size_t kDrainLimit = 64 * 1024 * 1024;
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr auto kStopGrace = std::chrono::seconds(2);
// An idle stream asks its producer again after this long, and sends a keep-alive comment after
// kPollsPerHeartbeat idle polls (~5 s): a failed write is how a client that left is found.
constexpr auto kEventPoll = std::chrono::milliseconds(100);
constexpr int kPollsPerHeartbeat = 50;
// A stream's write to a client that stopped reading gives up after this long.
constexpr auto kEventWriteTimeout = std::chrono::seconds(10);

std::chrono::microseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  ResponseObserver observer;
  // Before `io`: Sessions still queued in the io_context when it is destroyed count themselves
  // out in their destructors.
  std::atomic<bool> stopping{false};
  std::atomic<int> requests_in_flight{0};
  std::atomic<int> connections{0};
  std::atomic<int> streams{0};  // SSE streams not yet ended: stop() waits for them as for requests
  asio::io_context io{};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::string bound_address;

  void accept();
  void refuse_connection(tcp::socket& socket);
  void run_io();
  void observe(const HttpRequest& request, int status, SteadyClock::time_point started) {
    if (observer) observer(request, status, since(started));
  }
};

namespace {

// Turns Beast's parsed request into ours; nullopt when the target cannot be decoded.
std::optional<HttpRequest> to_http_request(http::request<http::string_body>& raw) {
  HttpRequest request;
  request.method = std::string(raw.method_string());
  std::string_view target(raw.target().data(), raw.target().size());
  size_t question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  auto query = question == std::string_view::npos ? std::make_optional(std::map<std::string, std::string>())
                                                   : parse_query(target.substr(question + 1));
  if (!path || !query || path->empty() || path->front() != '/') return std::nullopt;
  request.path = std::move(*path);
  request.query = std::move(*query);
  for (const auto& field : raw) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers[name] = std::string(field.value());
  }
  request.body = std::move(raw.body());
  return request;
}

// `version` is the request's (10 or 11): an HTTP/1.0 client is answered in HTTP/1.0.
http::response<http::string_body> to_beast_response(const HttpResponse& response, bool keep_alive,
                                                    unsigned version) {
  http::response<http::string_body> raw;
  raw.version(version == 10 ? 10 : 11);
  raw.result(static_cast<unsigned>(response.status));
  raw.set(http::field::server, "slipway");
  raw.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) raw.set(name, value);
  raw.body() = response.body;
  raw.keep_alive(keep_alive);
  raw.prepare_payload();
  return raw;
}

// Running out of memory or threads is the server's condition, not the request's fault: 503, so
// the client knows to retry, and the server goes on serving the requests it can.
HttpResponse exhausted(const HttpRequest& request, std::string_view what) {
  spdlog::warn("{} {}: {}", request.method, request.path, what);
  return HttpResponse::error(503, fmt::format("the server is out of resources ({}) while serving {} {}: retry "
                                              "later; if it persists, lower concurrency or the load on the server",
                                              what, request.method, request.path));
}

// A failed std::thread creation throws EAGAIN; memory and descriptors are the other resources.
bool is_exhaustion(const std::system_error& error) {
  const std::error_code& code = error.code();
  return code == std::errc::resource_unavailable_try_again || code == std::errc::not_enough_memory ||
         code == std::errc::too_many_files_open || code == std::errc::too_many_files_open_in_system;
}

HttpResponse run_handler(const HttpHandler& handler, HttpRequest& request) {
  try {
    return handler(request);
  } catch (const std::bad_alloc&) {
    return exhausted(request, "memory");
  } catch (const std::system_error& error) {
    if (is_exhaustion(error)) return exhausted(request, error.what());
    return HttpResponse::error(500, fmt::format("internal error while serving {} {}: {}", request.method,
                                                request.path, error.what()));
  } catch (const std::exception& error) {
    return HttpResponse::error(500, fmt::format("internal error while serving {} {}: {}", request.method,
                                                request.path, error.what()));
  } catch (...) {
    return HttpResponse::error(500, "internal error");
  }
}

// "event: NAME\ndata: LINE\n" per line of data, then a blank line.
void append_event(std::string& out, std::string_view name, std::string_view data) {
  out += fmt::format("event: {}\n", name);
  size_t start = 0;
  while (true) {
    size_t end = data.find('\n', start);
    out += fmt::format("data: {}\n", data.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  out += "\n";
}

std::string stream_head(const HttpResponse& response, unsigned version) {
  std::string head = fmt::format("HTTP/1.{} {} OK\r\nServer: slipway\r\nContent-Type: text/event-stream\r\n"
                                 "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
                                 version == 10 ? 0 : 1, response.status);
  for (const auto& [name, value] : response.headers) head += fmt::format("{}: {}\r\n", name, value);
  return head + "\r\n";
}

// One TCP connection: read a request, answer it, repeat while keep-alive holds — or, for an
// SSE response, write its events until the producer is done or the client leaves.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {
    server_.connections++;
  }
  ~Session() {
    if (streaming_) server_.streams--;
    server_.connections--;
  }

  void read_request() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(server_.options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, size_t) { self->on_read(error); });
  }

 private:
  void on_read(beast::error_code error) {
    started_ = SteadyClock::now();
    if (error == http::error::body_limit) {
      return refuse(413, fmt::format("the request body is larger than the server's limit of {} bytes "
                                     "(max_body_bytes in slipway.yml)", server_.options.max_body_bytes));
    }
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::operation_aborted || error == asio::error::connection_reset) {
      return close();
    }
    if (error) return refuse(400, fmt::format("malformed HTTP request: {}", error.message()));
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> raw) {
    bool keep_alive = raw.keep_alive();
    version_ = raw.version();
    std::optional<HttpRequest> request = to_http_request(raw);
    if (!request) {
      return refuse(400, "malformed request target: the path must start with '/' and every %-escape "
                         "must be two hex digits");
    }
    server_.requests_in_flight++;
    HttpResponse response = run_handler(server_.handler, *request);
    request_ = std::move(*request);
    if (response.events && !server_.stopping) {
      server_.requests_in_flight--;
      return start_events(std::move(response));
    }
    write(to_beast_response(response, keep_alive && !server_.stopping, version_), response.status, false);
  }

  // Answers a request we would not read to the end, then closes the connection.
  void refuse(int status, const std::string& message) {
    request_ = HttpRequest{};
    if (parser_ && parser_->is_header_done()) {
      request_.method = std::string(parser_->get().method_string());
      request_.path = std::string(parser_->get().target()).substr(0, parser_->get().target().find('?'));
      version_ = parser_->get().version();
    }
    server_.requests_in_flight++;
    write(to_beast_response(HttpResponse::error(status, message), false, version_), status, true);
  }

  void write(http::response<http::string_body> raw, int status, bool drain_after) {
    response_ = std::move(raw);
    stream_.expires_after(server_.options.idle_timeout);
    http::async_write(stream_, response_, [self = shared_from_this(), status, drain_after](beast::error_code error, size_t) {
      self->server_.observe(self->request_, status, self->started_);
      self->server_.requests_in_flight--;
      if (error) return self->close();
      if (drain_after) return self->drain();
      if (!self->response_.keep_alive()) return self->close();
      self->read_request();
    });
  }

  // The stream: head, then producer call → write → (pause when idle) → producer call...
  void start_events(HttpResponse response) {
    events_ = std::move(response.events);
    events_status_ = response.status;
    streaming_ = true;
    server_.streams++;
    timer_.emplace(stream_.get_executor());
    write_events(stream_head(response, version_), EventStep::more);
  }

  void next_events() {
    std::string out;
    EventStep step = EventStep::done;
    try {
      step = events_([&out](std::string_view name, std::string_view data) { append_event(out, name, data); });
    } catch (...) {
      // A failing producer ends its stream, never the server.
    }
    if (!out.empty() || step != EventStep::idle) idle_polls_ = 0;
    else if (++idle_polls_ >= kPollsPerHeartbeat) idle_polls_ = 0, out = ": keep-alive\n\n";
    if (out.empty()) return continue_events(step);
    write_events(std::move(out), step);
  }

  void write_events(std::string text, EventStep then) {
    events_out_ = std::move(text);
    stream_.expires_after(kEventWriteTimeout);
    asio::async_write(stream_, asio::buffer(events_out_), [self = shared_from_this(), then](beast::error_code error, size_t) {
      self->stream_.expires_never();
      if (error) return self->end_events();
      self->continue_events(then);
    });
  }

  void continue_events(EventStep step) {
    if (step == EventStep::done || server_.stopping) return end_events();
    if (step == EventStep::more) {
      return asio::post(stream_.get_executor(), [self = shared_from_this()] { self->next_events(); });
    }
    timer_->expires_after(kEventPoll);
    timer_->async_wait([self = shared_from_this()](beast::error_code error) {
      if (error) return self->end_events();
      self->next_events();
    });
  }

  void end_events() {
    server_.observe(request_, events_status_, started_);
    events_ = nullptr;  // releases what the producer holds (e.g. its place among the follows) now
    close();
    if (streaming_) server_.streams--;
    streaming_ = false;
  }

  // Half-closes and reads whatever the client still sends, then closes: see kDrainLimit.
  void drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    drain_buffer_.resize(64 * 1024);
    read_and_drop();
  }

  void read_and_drop() {
    stream_.async_read_some(asio::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code error, size_t n) {
      self->drained_ += n;
      if (error || self->drained_ > kDrainLimit) return self->close();
      self->read_and_drop();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  HttpRequest request_;
  unsigned version_ = 11;
  SteadyClock::time_point started_;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
  EventProducer events_;
  int events_status_ = 200;
  std::optional<asio::steady_timer> timer_;
  std::string events_out_;
  int idle_polls_ = 0;
  bool streaming_ = false;
};

}  // namespace

// Past max_connections: a 503 written without blocking (a fresh socket's buffer takes it), then
// closed. The request is not read: reading it would cost what the cap is there to save.
void HttpServer::Impl::refuse_connection(tcp::socket& socket) {
  std::string body = HttpResponse::error(503, fmt::format("the server has {} connections open, its limit "
                                                          "(max_connections in slipway.yml): retry shortly, "
                                                          "or close idle connections", options.max_connections))
                         .body;
  std::string answer = fmt::format("HTTP/1.1 503 Service Unavailable\r\nServer: slipway\r\nContent-Type: "
                                   "application/json\r\nContent-Length: {}\r\nConnection: close\r\n"
                                   "Retry-After: 1\r\n\r\n{}", body.size(), body);
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(answer), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error && connections >= options.max_connections) {
      refuse_connection(socket);
    } else if (!error) {
      try {
        std::make_shared<Session>(std::move(socket), *this)->read_request();
      } catch (const std::exception& failure) {  // out of memory: this connection closes, the rest go on
        spdlog::warn("cannot serve a new connection: {}", failure.what());
      }
    }
    accept();
  });
}

// A handler that throws (out of memory outside a request's handler) loses its connection, not
// the thread: an exception escaping a std::thread would end the process.
void HttpServer::Impl::run_io() {
  while (true) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      spdlog::error("HTTP server: a connection failed: {}", error.what());
    } catch (...) {
      spdlog::error("HTTP server: a connection failed");
    }
  }
}

namespace {

Result<tcp::endpoint> resolve_listen_address(asio::io_context& io, const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return make_error(fmt::format("listen address '{}' must be HOST:PORT, e.g. 127.0.0.1:7700", listen));
  }
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code error;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, asio::ip::resolver_base::numeric_service, error);
  if (error || results.empty()) {
    return make_error(fmt::format("listen address '{}': cannot resolve it ({})", listen, error.message()));
  }
  return results.begin()->endpoint();
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, ResponseObserver observer)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->observer = std::move(observer);
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  Impl& s = *impl_;
  auto endpoint = resolve_listen_address(s.io, s.options.listen);
  if (!endpoint) return endpoint.error();
  beast::error_code error;
  s.acceptor.open(endpoint->protocol(), error);
  if (!error) s.acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) s.acceptor.bind(*endpoint, error);
  if (!error) s.acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return make_error(fmt::format("cannot listen on {}: {} (is another server using it? choose another "
                                  "with --listen)", s.options.listen, error.message()));
  }
  tcp::endpoint bound = s.acceptor.local_endpoint();
  s.bound_address = fmt::format("{}:{}", bound.address().to_string(), bound.port());
  s.work.emplace(s.io.get_executor());
  s.accept();
  int count = s.options.threads > 0 ? s.options.threads
                                    : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < count; ++i) s.threads.emplace_back([&s] { s.run_io(); });
  return {};
}

std::string HttpServer::address() const { return impl_->bound_address; }

void HttpServer::stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  asio::post(s.io, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  auto deadline = SteadyClock::now() + kStopGrace;
  // Streams notice `stopping` at their next poll (kEventPoll) or when their write times out.
  while ((s.requests_in_flight > 0 || s.streams > 0) && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.work.reset();
  s.io.stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
  // The close posted above may not have run before io.stop(): closed here for certain, with no
  // thread left using it. A listener left open until the object goes would take connections
  // into its backlog and answer none: a server stopping while its own run pushed to a repository
  // whose post-receive hook calls it back waited out that hook's 10 s curl.
  beast::error_code ignored;
  s.acceptor.close(ignored);
}

}  // namespace slipway
