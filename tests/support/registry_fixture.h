// RegistryServer: a real distribution registry (/usr/bin/docker-registry) on 127.0.0.1 for
// integration tests, its storage in a temporary folder, stopped by PID when the object goes
// (RAII, so a failing test leaves nothing running). htpasswd auth by default (a bcrypt file made
// by `htpasswd -Bbn`), no auth on request, or `auth: token` against a TokenIssuer: a tiny token
// service in the test process that signs RS256 JWTs with an x5c chain (a self-signed
// certificate made by the openssl CLI), which is how distribution 2.8 checks bearer tokens:
// issuer, audience = service, expiry, and the "access" claims.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "base/http_client.h"
#include "base/ports.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "stop_child.h"  // beside this file: the benchmarks include it by path

namespace slipway::testing {

// A port nothing listens on right now (base/ports.h), or 0 when none can be had: fixtures try
// again or report the start that failed.
inline int free_loopback_port() {
  auto port = slipway::free_loopback_port();
  return port ? *port : 0;
}

inline std::string base64url(std::string_view bytes) {
  std::string text = to_base64(bytes);
  for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

inline std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// The token service of `auth: token` mode. Grants every scope asked for to the one user whose
// Basic credentials it was given; answers 401 to anyone else. Records each request's scopes.
class TokenIssuer {
 public:
  TokenIssuer(std::string username, std::string password, std::string service = "slipway-test-registry",
              std::string issuer = "slipway-test-issuer")
      : folder_("slipway-token-issuer"), username_(std::move(username)), password_(std::move(password)),
        service_(std::move(service)), issuer_(std::move(issuer)) {
    auto made = run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                             "/CN=" + issuer_, "-keyout", key().string(), "-out", certificate().string()});
    if (!made || made->exit_code != 0) {
      error_ = "openssl could not make the issuer's certificate: " + (made ? made->err : made.error().message);
      return;
    }
    auto der = run_command({"openssl", "x509", "-in", certificate().string(), "-outform", "DER"});
    if (!der || der->exit_code != 0) {
      error_ = "openssl could not convert the certificate to DER";
      return;
    }
    x5c_ = to_base64(der->out);
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int yes = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listen_fd_, 16);
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~TokenIssuer() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  const std::string& error() const { return error_; }
  std::string realm() const { return fmt::format("http://127.0.0.1:{}/token", port_); }
  const std::string& service() const { return service_; }
  const std::string& issuer() const { return issuer_; }
  std::filesystem::path certificate() const { return folder_.path() / "cert.pem"; }
  std::filesystem::path key() const { return folder_.path() / "key.pem"; }

  int requests() const { return requests_; }
  // The scopes of every request so far, each request's scopes space-joined.
  std::vector<std::string> scopes_requested() const {
    std::lock_guard lock(mutex_);
    return scopes_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd waiting{listen_fd_, POLLIN, 0};
      if (poll(&waiting, 1, 100) <= 0) continue;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      answer(client);
      close(client);
    }
  }

  void answer(int client) {
    std::string request;
    char buffer[8192];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      request.append(buffer, static_cast<size_t>(n));
    }
    ++requests_;
    std::string line = request.substr(0, request.find("\r\n"));
    std::string target = split(line, ' ').size() > 1 ? split(line, ' ')[1] : "";
    std::vector<std::string> scopes;
    if (size_t query = target.find('?'); query != std::string::npos) {
      for (const auto& pair : split(target.substr(query + 1), '&')) {
        if (starts_with(pair, "scope=")) scopes.push_back(percent_decode(pair.substr(6)));
      }
    }
    {
      std::lock_guard lock(mutex_);
      scopes_.push_back(join(scopes, " "));
    }
    std::string authorization;
    for (const auto& header : split(request, '\n')) {
      std::string_view text = trim(header);
      size_t colon = text.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(text.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "authorization") authorization = std::string(trim(text.substr(colon + 1)));
    }
    bool authorized = authorization == "Basic " + to_base64(username_ + ":" + password_);
    std::string body;
    std::string status = "200 OK";
    if (!authorized) {
      status = "401 Unauthorized";
      body = R"({"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]})";
    } else {
      body = nlohmann::json{{"token", sign(scopes)}, {"expires_in", 300}}.dump();
    }
    std::string response = fmt::format("HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
                                       "Connection: close\r\n\r\n{}",
                                       status, body.size(), body);
    send(client, response.data(), response.size(), MSG_NOSIGNAL);
  }

  // An RS256 JWT granting `scopes` ("repository:NAME:pull,push") to the user.
  std::string sign(const std::vector<std::string>& scopes) {
    nlohmann::json access = nlohmann::json::array();
    for (const auto& scope : scopes) {
      size_t first = scope.find(':');
      size_t last = scope.rfind(':');
      if (first == std::string::npos || first == last) continue;
      access.push_back({{"type", scope.substr(0, first)},
                        {"name", scope.substr(first + 1, last - first - 1)},
                        {"actions", split(scope.substr(last + 1), ',')}});
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {x5c_}}};
    nlohmann::json claims = {{"iss", issuer_}, {"sub", username_}, {"aud", service_}, {"exp", now + 300},
                             {"nbf", now - 10}, {"iat", now}, {"jti", to_hex(random_bytes(8))}, {"access", access}};
    std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    std::lock_guard lock(mutex_);
    std::filesystem::path input = folder_.path() / "input";
    std::filesystem::path signature = folder_.path() / "signature";
    std::ofstream(input, std::ios::binary) << signing_input;
    auto signed_ = run_command({"openssl", "dgst", "-sha256", "-sign", key().string(), "-out", signature.string(), input.string()});
    auto bytes = read_file(signature);
    return signing_input + "." + (signed_ && signed_->exit_code == 0 && bytes ? base64url(*bytes) : "");
  }

  TemporaryDirectory folder_;
  std::string username_;
  std::string password_;
  std::string service_;
  std::string issuer_;
  std::string x5c_;
  std::string error_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> scopes_;
  std::thread thread_;
};

struct RegistryOptions {
  enum class Auth { htpasswd, none, token };
  Auth auth = Auth::htpasswd;
  std::string username = "alice";
  std::string password = "correct-horse-battery";
  const TokenIssuer* issuer = nullptr;        // for Auth::token
  bool relative_urls = false;                 // Location headers as paths instead of full URLs
  std::string notifications_url;              // "" = no notifications endpoint
  std::string notifications_token;            // sent as "Authorization: Bearer ..." when set
};

class RegistryServer {
 public:
  explicit RegistryServer(RegistryOptions options = {}) : options_(std::move(options)), folder_("slipway-registry") {
    if (options_.auth == RegistryOptions::Auth::htpasswd && !write_htpasswd()) return;
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      port_ = free_loopback_port();
      write_config();
      start();
      if (!wait_until_ready()) stop();
    }
    if (pid_ <= 0 && error_.empty()) error_ = "docker-registry did not start; its log:\n" + log();
  }
  ~RegistryServer() { stop(); }
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // "" when the registry answers; else why not.
  const std::string& error() const { return error_; }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  int port() const { return port_; }
  const std::string& username() const { return options_.username; }
  const std::string& password() const { return options_.password; }
  std::filesystem::path storage() const { return folder_.path() / "storage"; }
  std::string log() const {
    auto text = read_file(folder_.path() / "registry.log");
    return text ? *text : "";
  }

  // SIGTERM, up to 5 s, then SIGKILL. Idempotent: the registry is then "down".
  void stop() {
    stop_child(pid_);
  }

 private:
  bool write_htpasswd() {
    auto line = run_command({"htpasswd", "-Bbn", options_.username, options_.password});
    if (!line || line->exit_code != 0) {
      error_ = "htpasswd could not make the password file: " + (line ? line->err : line.error().message);
      return false;
    }
    std::ofstream(folder_.path() / "htpasswd") << trim(line->out) << "\n";
    return true;
  }

  std::string auth_section() const {
    switch (options_.auth) {
      case RegistryOptions::Auth::none: return "";
      case RegistryOptions::Auth::htpasswd:
        return fmt::format("auth:\n  htpasswd:\n    realm: slipway-test\n    path: {}\n", (folder_.path() / "htpasswd").string());
      case RegistryOptions::Auth::token:
        return fmt::format("auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                           options_.issuer->realm(), options_.issuer->service(), options_.issuer->issuer(),
                           options_.issuer->certificate().string());
    }
    return "";
  }

  std::string notifications_section() const {
    if (options_.notifications_url.empty()) return "";
    std::string headers = options_.notifications_token.empty()
                              ? ""
                              : fmt::format("      headers:\n        Authorization: [\"Bearer {}\"]\n", options_.notifications_token);
    return fmt::format("notifications:\n  endpoints:\n    - name: slipway\n      url: {}\n{}      timeout: 2s\n"
                       "      threshold: 3\n      backoff: 1s\n",
                       options_.notifications_url, headers);
  }

  void write_config() {
    std::ofstream(folder_.path() / "config.yml")
        << "version: 0.1\n"
        << "log:\n  level: info\n  accesslog:\n    disabled: true\n"
        << "storage:\n  filesystem:\n    rootdirectory: " << storage().string() << "\n"
        << "  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\n"
        << "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        << "http:\n  addr: 127.0.0.1:" << port_ << "\n  secret: " << to_hex(random_bytes(16)) << "\n"
        << "  relativeurls: " << (options_.relative_urls ? "true" : "false") << "\n"
        << auth_section() << notifications_section();
  }

  void start() {
    std::string config = (folder_.path() / "config.yml").string();
    std::string log_path = (folder_.path() / "registry.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      freopen(log_path.c_str(), "a", stdout);
      dup2(fileno(stdout), 2);
      execl("/usr/bin/docker-registry", "docker-registry", "serve", config.c_str(), nullptr);
      _exit(127);
    }
  }

  // Until GET /v2/ answers: 401 with auth, 200 without. False when the process died.
  bool wait_until_ready() {
    HttpClient client;
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      HttpClientRequest ping;
      ping.url = fmt::format("http://{}/v2/", address());
      ping.connect_timeout = Milliseconds(500);
      ping.timeout = Milliseconds(2'000);
      auto answer = client.send(ping);
      long expected = options_.auth == RegistryOptions::Auth::none ? 200 : 401;
      if (answer && answer->status == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error_ = "docker-registry did not answer GET /v2/ within 10 s; its log:\n" + log();
    return false;
  }

  RegistryOptions options_;
  TemporaryDirectory folder_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace slipway::testing
