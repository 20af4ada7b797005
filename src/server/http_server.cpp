// Boost.Beast lives only in this file. Each accepted connection is a Session reading requests
// asynchronously on the pool's io_context; handlers run on the pool thread that read the
// request (SQLite queries are short). A Server-Sent Events response takes the socket out of
// the io_context and writes synchronously from its own thread, since its producer blocks
// between events.
#include <utility>  // before Boost.Asio: a C++20 header-order bug in Boost 1.74

#include "server/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/core.h>

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

std::chrono::microseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
}

// One live SSE stream: its thread and its socket, so stop() can unblock and join it.
struct EventStream {
  tcp::socket socket;
  std::thread thread;
  std::atomic<bool> done{false};
  explicit EventStream(tcp::socket s) : socket(std::move(s)) {}
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  ResponseObserver observer;
  asio::io_context io{};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::string bound_address;
  std::atomic<bool> stopping{false};
  std::atomic<int> requests_in_flight{0};
  std::mutex streams_mutex;
  std::list<std::shared_ptr<EventStream>> streams;

  void accept();
  void start_stream(tcp::socket socket, HttpRequest request, HttpResponse response,
                    SteadyClock::time_point started);
  void reap_finished_streams();
  void end_streams();
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

http::response<http::string_body> to_beast_response(const HttpResponse& response, bool keep_alive) {
  http::response<http::string_body> raw;
  raw.version(11);
  raw.result(static_cast<unsigned>(response.status));
  raw.set(http::field::server, "slipway");
  raw.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) raw.set(name, value);
  raw.body() = response.body;
  raw.keep_alive(keep_alive);
  raw.prepare_payload();
  return raw;
}

HttpResponse run_handler(const HttpHandler& handler, HttpRequest& request) {
  try {
    return handler(request);
  } catch (const std::exception& error) {
    return HttpResponse::error(500, fmt::format("internal error while serving {} {}: {}", request.method,
                                                request.path, error.what()));
  } catch (...) {
    return HttpResponse::error(500, "internal error");
  }
}

// One TCP connection: read a request, answer it, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}

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
    std::optional<HttpRequest> request = to_http_request(raw);
    if (!request) {
      return refuse(400, "malformed request target: the path must start with '/' and every %-escape "
                         "must be two hex digits");
    }
    server_.requests_in_flight++;
    HttpResponse response = run_handler(server_.handler, *request);
    if (response.events && !server_.stopping) {
      server_.requests_in_flight--;
      server_.start_stream(stream_.release_socket(), std::move(*request), std::move(response), started_);
      return;
    }
    request_ = std::move(*request);
    write(to_beast_response(response, keep_alive && !server_.stopping), response.status, false);
  }

  // Answers a request we would not read to the end, then closes the connection.
  void refuse(int status, const std::string& message) {
    request_ = HttpRequest{};
    if (parser_ && parser_->is_header_done()) {
      request_.method = std::string(parser_->get().method_string());
      request_.path = std::string(parser_->get().target()).substr(0, parser_->get().target().find('?'));
    }
    server_.requests_in_flight++;
    write(to_beast_response(HttpResponse::error(status, message), false), status, true);
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
  SteadyClock::time_point started_;
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
};

bool write_all(tcp::socket& socket, std::string_view text) {
  beast::error_code error;
  asio::write(socket, asio::buffer(text.data(), text.size()), error);
  return !error;
}

// "event: NAME\ndata: LINE\n" per line of data, then a blank line; an empty name is a comment,
// a heartbeat that tells us whether the client is still there.
std::string format_event(std::string_view name, std::string_view data) {
  if (name.empty()) return ": keep-alive\n\n";
  std::string text = fmt::format("event: {}\n", name);
  size_t start = 0;
  while (true) {
    size_t end = data.find('\n', start);
    text += fmt::format("data: {}\n", data.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return text + "\n";
}

// A blocked write to a client that stopped reading gives up after this long.
void set_send_timeout(tcp::socket& socket, int seconds) {
  timeval timeout{seconds, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

}  // namespace

void HttpServer::Impl::start_stream(tcp::socket socket, HttpRequest request, HttpResponse response,
                                    SteadyClock::time_point started) {
  reap_finished_streams();
  auto stream = std::make_shared<EventStream>(std::move(socket));
  std::lock_guard lock(streams_mutex);
  streams.push_back(stream);
  stream->thread = std::thread([this, stream, request = std::move(request), response = std::move(response), started] {
    beast::error_code ignored;
    stream->socket.non_blocking(false, ignored);
    set_send_timeout(stream->socket, 10);
    std::string head = fmt::format("HTTP/1.1 {} OK\r\nServer: slipway\r\nContent-Type: text/event-stream\r\n"
                                   "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n",
                                   response.status);
    for (const auto& [name, value] : response.headers) head += fmt::format("{}: {}\r\n", name, value);
    bool open = write_all(stream->socket, head + "\r\n");
    if (open) {
      try {
        response.events([&](std::string_view name, std::string_view data) {
          return !stopping && write_all(stream->socket, format_event(name, data));
        });
      } catch (...) {
        // A failing producer ends its stream, never the server.
      }
    }
    observe(request, response.status, started);
    stream->socket.shutdown(tcp::socket::shutdown_both, ignored);
    stream->socket.close(ignored);
    stream->done = true;
  });
}

void HttpServer::Impl::reap_finished_streams() {
  std::lock_guard lock(streams_mutex);
  for (auto it = streams.begin(); it != streams.end();) {
    if (!(*it)->done) { ++it; continue; }
    (*it)->thread.join();
    it = streams.erase(it);
  }
}

void HttpServer::Impl::end_streams() {
  std::list<std::shared_ptr<EventStream>> ending;
  {
    std::lock_guard lock(streams_mutex);
    ending.swap(streams);
  }
  for (auto& stream : ending) {
    // Unblocks a write in progress; the producer's next send returns false (stopping is set).
    ::shutdown(stream->socket.native_handle(), SHUT_RDWR);
    stream->thread.join();
  }
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) std::make_shared<Session>(std::move(socket), *this)->read_request();
    accept();
  });
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
  for (int i = 0; i < count; ++i) s.threads.emplace_back([&s] { s.io.run(); });
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
  while (s.requests_in_flight > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.end_streams();
  s.work.reset();
  s.io.stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
}

}  // namespace slipway
