// GitHttpsServer: the bare repositories of a temporary folder served over HTTPS on
// 127.0.0.1:<a free port>, as a git host does for clone, fetch and ls-remote (no push): nginx in
// the foreground (as root, every path of its own inside the folder) hands each request to
// `git http-backend` through fcgiwrap on a Unix socket. TLS with a certificate for IP 127.0.0.1
// signed by a CA the fixture makes with the openssl CLI (ca_file()); every request needs Basic
// auth with the username and token given (htpasswd file), else 401. The constructor returns once
// the port accepts, or throws std::runtime_error with the end of nginx's error log; nginx and
// fcgiwrap are stopped, and the folder removed, when the object goes. Needs root.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "foreground_child.h"
#include "registry_fixture.h"  // free_loopback_port

namespace slipway::testing {

class GitHttpsServer {
 public:
  explicit GitHttpsServer(std::string token = "slipway-test-token", std::string username = "x-access-token")
      : folder_("slipway-git-https"), username_(std::move(username)), token_(std::move(token)) {
    std::filesystem::create_directories(repositories());
    std::filesystem::create_directories(folder_.path() / "temp");
    make_certificates();
    run_setup_command({"htpasswd", "-bc", file("htpasswd"), username_, token_});
    start_fcgiwrap();
    for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) start_nginx(free_loopback_port());
    if (port_ == 0) throw std::runtime_error("nginx did not start; the end of its logs:\n" + tail(error_log()));
  }
  GitHttpsServer(const GitHttpsServer&) = delete;
  GitHttpsServer& operator=(const GitHttpsServer&) = delete;

  int port() const { return port_; }
  // "https://127.0.0.1:PORT/NAME.git", served from repositories()/NAME.git.
  std::string url(const std::string& repository_name) const {
    return fmt::format("https://127.0.0.1:{}/{}.git", port_, repository_name);
  }
  std::filesystem::path repositories() const { return folder_.path() / "repositories"; }
  std::filesystem::path ca_file() const { return folder_.path() / "ca.pem"; }
  const std::string& username() const { return username_; }
  const std::string& token() const { return token_; }
  // "Authorization: Basic BASE64(username:token)", for `git -c http.extraHeader=...`.
  std::string authorization_header() const { return "Authorization: Basic " + to_base64(username_ + ":" + token_); }
  // nginx's "combined" lines: `127.0.0.1 - USER [time] "GET /NAME.git/info/refs?... HTTP/1.1" 401 ...`.
  std::string access_log() const { return text_of("access.log"); }
  std::string error_log() const { return text_of("error.log") + text_of("nginx.out") + text_of("fcgiwrap.log"); }

 private:
  std::string file(const std::string& name) const { return (folder_.path() / name).string(); }
  std::string text_of(const std::string& name) const {
    auto text = read_file(folder_.path() / name);
    return text ? *text : "";
  }
  static std::string tail(const std::string& text, size_t lines = 20) {
    size_t start = text.size();
    for (size_t n = 0; start > 0 && n <= lines; --start) n += text[start - 1] == '\n';
    return text.substr(start);
  }

  // A CA, and a certificate for IP 127.0.0.1 it signed (EC keys: quick to make).
  void make_certificates() {
    std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    std::vector<std::string> ca = {"openssl", "req", "-x509", "-days", "2", "-subj", "/CN=Slipway test CA",
                                   "-addext", "basicConstraints=critical,CA:TRUE",
                                   "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                                   "-keyout", file("ca.key"), "-out", file("ca.pem")};
    ca.insert(ca.begin() + 3, new_key.begin(), new_key.end());
    run_setup_command(ca);
    std::vector<std::string> request = {"openssl", "req", "-subj", "/CN=127.0.0.1",
                                        "-keyout", file("server.key"), "-out", file("server.csr")};
    request.insert(request.begin() + 2, new_key.begin(), new_key.end());
    run_setup_command(request);
    std::ofstream(file("server.ext")) << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    run_setup_command({"openssl", "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey",
                       file("ca.key"), "-set_serial", "1", "-days", "2", "-extfile", file("server.ext"), "-out",
                       file("server.pem")});
  }

  void start_fcgiwrap() {
    std::string socket = file("fcgiwrap.sock");
    // One process, no -c N: preforked workers would outlive a parent killed by PR_SET_PDEATHSIG.
    fcgiwrap_.start({"/usr/sbin/fcgiwrap", "-s", "unix:" + socket}, file("fcgiwrap.log"));
    if (!fcgiwrap_.wait_until([&] { return std::filesystem::exists(socket); })) {
      throw std::runtime_error("fcgiwrap did not start: " + text_of("fcgiwrap.log"));
    }
  }

  void start_nginx(int port) {
    std::ofstream(file("nginx.conf")) << nginx_config(port);
    std::filesystem::remove(file("nginx.pid"));
    nginx_.start({"/usr/sbin/nginx", "-p", folder_.path().string(), "-e", file("error.log"), "-c", file("nginx.conf"),
                  "-g", "daemon off;"},
                 file("nginx.out"));
    // nginx writes its pid file once it has bound its port: until then, a listener there may be another's.
    auto ready = [&] { return std::filesystem::exists(file("nginx.pid")) && listening_on_loopback(port); };
    if (nginx_.wait_until(ready)) port_ = port;
    else nginx_.stop();
  }

  std::string nginx_config(int port) const {
    return fmt::format(R"(user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{ worker_connections 64; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/temp/body;
  proxy_temp_path {dir}/temp/proxy;
  fastcgi_temp_path {dir}/temp/fastcgi;
  uwsgi_temp_path {dir}/temp/uwsgi;
  scgi_temp_path {dir}/temp/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    auth_basic "slipway-test";
    auth_basic_user_file {dir}/htpasswd;
    location / {{
      fastcgi_pass unix:{dir}/fcgiwrap.sock;
      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
      fastcgi_param GIT_PROJECT_ROOT {dir}/repositories;
      fastcgi_param GIT_HTTP_EXPORT_ALL 1;
      fastcgi_param PATH_INFO $uri;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param REMOTE_USER $remote_user;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param GIT_PROTOCOL $http_git_protocol;
    }}
  }}
}}
)",
                       fmt::arg("dir", folder_.path().string()), fmt::arg("port", port));
  }

  TemporaryDirectory folder_;  // first: removed after both servers stopped
  std::string username_;
  std::string token_;
  ForegroundChild fcgiwrap_;
  ForegroundChild nginx_;
  int port_ = 0;
};

// A CA of its own in `folder` (ca.pem), which signed none of the forges' certificates; empty
// path (and a failed expectation) when openssl failed.
inline std::filesystem::path make_another_ca(const std::filesystem::path& folder) {
  std::filesystem::path ca = folder / "ca.pem";
  auto made = run_command_checked({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                   "-nodes", "-days", "2", "-subj", "/CN=Another CA", "-keyout",
                                   (folder / "ca.key").string(), "-out", ca.string()});
  EXPECT_TRUE(made.ok()) << made.error().message;
  return made.ok() ? ca : std::filesystem::path();
}

}  // namespace slipway::testing
