// A tiny blocking HTTP/1.1 client for tests: one request per connection (Connection: close),
// the whole answer read until the server closes — which also suits an SSE stream that ends.
// Plus ServerProcess, which starts `slipway serve` and always stops it (RAII), even when a test
// fails half-way.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"

namespace slipway::testing {

// A connected TCP socket to "HOST:PORT" (IPv4), or -1 when nothing accepts there.
inline int connect_to(const std::string& address) {
  size_t colon = address.rfind(':');
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &server.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Whether anything accepts connections on 127.0.0.1:`port` of this (the host's) namespace.
inline bool host_can_connect(int port) {
  int fd = connect_to("127.0.0.1:" + std::to_string(port));
  if (fd < 0) return false;
  close(fd);
  return true;
}

struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
};

inline HttpAnswer http_request(const std::string& address, const std::string& method, const std::string& target,
                               const std::map<std::string, std::string>& headers = {}, const std::string& body = "") {
  HttpAnswer answer;
  int fd = connect_to(address);
  if (fd < 0) return answer;
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // a server refusing a body may stop reading; its answer is still there
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[65536];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, static_cast<size_t>(n));
  close(fd);
  size_t end_of_head = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end_of_head == std::string::npos) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  answer.head = raw.substr(0, end_of_head);
  answer.body = raw.substr(end_of_head + 4);
  return answer;
}

// `slipway serve ARGS...` on a free port with $SLIPWAY_ADMIN_TOKEN set; stopped by SIGTERM (then
// SIGKILL if it lingers) when destroyed.
class ServerProcess {
 public:
  // `listen` "127.0.0.1:0" lets the kernel choose; a test that must name the address before the
  // server starts (a registry's notification endpoint) passes one it reserved.
  ServerProcess(std::vector<std::string> arguments, const std::string& admin_token,
                std::string listen = "127.0.0.1:0")
      : output_("slipway-serve") {
    std::string log = (output_.path() / "serve.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      setenv("SLIPWAY_ADMIN_TOKEN", admin_token.c_str(), 1);
      freopen(log.c_str(), "w", stdout);
      dup2(fileno(stdout), 2);
      arguments.insert(arguments.begin(), {SLIPWAY_BINARY, "serve", "--listen", listen});
      std::vector<char*> argv;
      for (auto& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200 && address_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto text = read_file(log);
      if (!text) continue;
      size_t found = text->find("serving on http://");
      if (found != std::string::npos) {
        size_t start = found + 18;
        address_ = text->substr(start, text->find(' ', start) - start);
      }
    }
  }
  ~ServerProcess() { stop(); }

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  std::string log() const {
    auto text = read_file(output_.path() / "serve.log");
    return text ? *text : "";
  }

  // SIGTERM and wait (up to 10 s, then SIGKILL); returns the exit status, -1 if killed.
  int stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return exit_status_ = -1;
  }

  // SIGKILL, as a crash would: nothing of the server's own shutdown runs.
  void kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }

 private:
  TemporaryDirectory output_;
  pid_t pid_ = -1;
  std::string address_;
  int exit_status_ = -1;
};

}  // namespace slipway::testing
