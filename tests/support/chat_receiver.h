// ChatReceiver: a local HTTP endpoint standing in for a chat webhook (Slack, a generic JSON hook)
// in tests. It listens on 127.0.0.1:<free port> from construction to destruction (RAII) and
// records every request it gets, in order. API:
//   url()                     "http://127.0.0.1:PORT/hook" (any path is accepted and recorded)
//   messages()                every request so far: method, path, headers (names lower-cased),
//                             body, and the status it was answered with (0: closed unanswered)
//   wait_for(count, timeout)  true once at least `count` requests were answered or closed
//   fail_next(n, status)      the next n requests get `status` (e.g. 500) instead of 200
//   set_delay(delay)          waits this long before each answer (cut short by destruction)
//   close_without_answer(on)  reads each request, then closes the connection without a word
// One connection at a time, answered with "Connection: close"; bodies need a Content-Length.
#pragma once

#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace slipway::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  int status = 0;  // what it was answered with; 0 when closed without an answer
};

class ChatReceiver {
 public:
  ChatReceiver() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        listen(listener_, 16) != 0 || getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      if (listener_ >= 0) close(listener_);
      throw std::runtime_error("ChatReceiver: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~ChatReceiver() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
    close(listener_);
  }

  ChatReceiver(const ChatReceiver&) = delete;
  ChatReceiver& operator=(const ChatReceiver&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  std::vector<ReceivedRequest> messages() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  bool wait_for(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
  }

  void fail_next(int count, int status = 500) {
    std::lock_guard lock(mutex_);
    failures_left_ = count;
    failure_status_ = status;
  }

  void set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }

  void close_without_answer(bool on) {
    std::lock_guard lock(mutex_);
    close_without_answer_ = on;
  }

 private:
  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Polls so that destruction is noticed within 50 ms even while a client is connected.
  bool readable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    while (!stopping()) {
      if (poll(&entry, 1, 50) > 0) return true;
    }
    return false;
  }

  void serve() {
    while (readable(listener_)) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      handle(client);
      close(client);
    }
  }

  // Reads one request: head up to the blank line, then Content-Length bytes of body.
  bool read_request(int client, ReceivedRequest& request) {
    std::string data;
    char buffer[65536];
    size_t head_end = std::string::npos;
    size_t length = 0;
    for (;;) {
      if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        length = parse_head(data.substr(0, head_end), request);
      }
      if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
      if (!readable(client)) return false;
      ssize_t n = recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<size_t>(n));
    }
    request.body = data.substr(head_end + 4, length);
    return true;
  }

  static size_t parse_head(const std::string& head, ReceivedRequest& request) {
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t space = first.find(' ');
    request.method = first.substr(0, space);
    request.path = first.substr(space + 1, first.find(' ', space + 1) - space - 1);
    for (size_t at = line_end; at != std::string::npos && at < head.size();) {
      size_t next = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        size_t value = line.find_first_not_of(' ', colon + 1);
        request.headers[name] = value == std::string::npos ? "" : line.substr(value);
      }
      at = next;
    }
    auto length = request.headers.find("content-length");
    return length == request.headers.end() ? 0 : std::stoul(length->second);
  }

  void handle(int client) {
    ReceivedRequest request;
    if (!read_request(client, request)) return;
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, delay_, [&] { return stopping_; });
    if (!close_without_answer_) {
      request.status = failures_left_ > 0 ? failure_status_ : 200;
      if (failures_left_ > 0) --failures_left_;
      std::string body = request.status == 200 ? "ok" : "failing on purpose";
      std::string answer = "HTTP/1.1 " + std::to_string(request.status) + " Test\r\nContent-Type: text/plain\r\n" +
                           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
    received_.push_back(std::move(request));
    changed_.notify_all();
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedRequest> received_;
  bool stopping_ = false;
  int failures_left_ = 0;
  int failure_status_ = 500;
  std::chrono::milliseconds delay_{0};
  bool close_without_answer_ = false;
};

}  // namespace slipway::testing
