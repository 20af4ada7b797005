// S3rverProcess: a real S3 server — s3rver from npm (the maintained @20minutes/s3rver, which,
// unlike the original s3rver 3.x, verifies SigV4 signatures) — on 127.0.0.1, on a port the
// kernel picks, with its own temporary data directory and the buckets asked for. Installed
// into tests/s3rver/node_modules with `npm ci` on first use (under a file lock, so parallel
// ctest processes do not race), started by fork/exec, and stopped by its PID (SIGTERM, then
// SIGKILL) when the object is destroyed — also when the test process dies (PR_SET_PDEATHSIG).
// Virtual-host style: s3rver runs with --service-endpoint localhost, so a request for
// Host: BUCKET.s3.localhost:PORT is read as bucket BUCKET. Plus aws(), the AWS CLI pointed at
// it with the fixture's credentials and no configuration file, which never leaves 127.0.0.1.
// No GoogleTest here: the S3 benchmark uses it too.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"
#include "stop_child.h"  // beside this file: the benchmarks include it by path

namespace slipway::testing {

struct S3rverSettings {
  std::vector<std::string> buckets = {"slipway-test"};
  bool quiet = false;  // no log line per request (s3rver's logging costs time in a benchmark)
  // s3rver checks SigV4 signatures of path-style requests correctly, but for a virtual-host
  // request it rebuilds the canonical URI with the bucket in it ("/bucket/key", its SigV2 rule),
  // where AWS signs the path as sent ("/key": see AWS's GET Object example, which sigv4_test
  // checks). A virtual-host test therefore runs with this off; the access key is still checked.
  bool check_signatures = true;
};

class S3rverProcess {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  explicit S3rverProcess(const S3rverSettings& settings = {}) : data_("slipway-s3rver") {
    std::string installed = install();
    if (!installed.empty()) {
      error_ = installed;
      return;
    }
    start(settings);
  }
  ~S3rverProcess() { stop(); }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  bool running() const { return port_ > 0; }
  const std::string& error() const { return error_; }  // why it is not running
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // For virtual-host style: BUCKET.s3.localhost, connected to 127.0.0.1.
  std::string vhost_endpoint() const { return "http://s3.localhost:" + std::to_string(port_); }
  std::string log() const {
    auto text = read_file(data_.path() / "s3rver.log");
    return text ? *text : "";
  }

  // `aws --endpoint-url http://127.0.0.1:PORT ARGS...` with the fixture's credentials.
  CommandOutput aws(const std::vector<std::string>& arguments) const {
    std::vector<std::string> argv = {"env",
                                     std::string("AWS_ACCESS_KEY_ID=") + kAccessKey,
                                     std::string("AWS_SECRET_ACCESS_KEY=") + kSecretKey,
                                     "AWS_DEFAULT_REGION=us-east-1",
                                     "AWS_EC2_METADATA_DISABLED=true",
                                     "AWS_CONFIG_FILE=/dev/null",
                                     "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                     "aws",
                                     "--endpoint-url",
                                     endpoint()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto output = run_command(argv);
    if (!output) return CommandOutput{-1, "", output.error().message};
    return *output;
  }

  void stop() {
    stop_child(pid_);
  }

 private:
  static std::filesystem::path package_dir() { return std::filesystem::path(SLIPWAY_SOURCE_DIR) / "tests" / "s3rver"; }

  // `npm ci` from the pinned package-lock.json, once: the first process to take the lock
  // installs, the others wait and find it done. Returns "" or what went wrong.
  static std::string install() {
    std::filesystem::path marker = package_dir() / "node_modules" / "@20minutes" / "s3rver" / "package.json";
    if (std::filesystem::exists(marker)) return "";
    std::string lock_path = (std::filesystem::temp_directory_path() / "slipway-s3rver-npm.lock").string();
    int lock = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) return "cannot lock " + lock_path + " to install s3rver";
    std::string problem;
    if (!std::filesystem::exists(marker)) {
      auto output = run_command({"npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"}, package_dir());
      if (!output) problem = "cannot run npm to install s3rver: " + output.error().message;
      else if (output->exit_code != 0) problem = "npm ci in tests/s3rver failed: " + output->err;
    }
    flock(lock, LOCK_UN);
    close(lock);
    return problem;
  }

  void start(const S3rverSettings& settings) {
    std::filesystem::path log_path = data_.path() / "s3rver.log";
    // --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation tokens with DES, which
    // the OpenSSL 3 of Node 17+ only offers from its legacy provider (else a listing of more
    // than 1 000 keys fails with InternalError).
    std::vector<std::string> arguments = {"node", "--openssl-legacy-provider", (package_dir() / "s3rver.js").string(),
                                          "-d",        (data_.path() / "data").string(),
                                          "-a",        "127.0.0.1",
                                          "-p",        "0",
                                          "--service-endpoint", "localhost"};
    if (settings.quiet) arguments.push_back("--silent");
    if (!settings.check_signatures) arguments.push_back("--allow-mismatched-signatures");
    for (const std::string& bucket : settings.buckets) {
      arguments.insert(arguments.end(), {"--configure-bucket", bucket});
    }
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl
      if (!freopen(log_path.c_str(), "w", stdout)) _exit(126);
      dup2(fileno(stdout), 2);
      std::vector<char*> argv;
      for (auto& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    wait_for_port(log_path);
  }

  // s3rver prints "S3rver listening on 127.0.0.1:PORT" once it accepts connections.
  void wait_for_port(const std::filesystem::path& log_path) {
    const std::string marker = "listening on 127.0.0.1:";
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto text = read_file(log_path);
      size_t found = text ? text->find(marker) : std::string::npos;
      if (found != std::string::npos) port_ = std::atoi(text->c_str() + found + marker.size());
      int status = 0;
      if (port_ == 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        error_ = "s3rver exited at start: " + (text ? *text : std::string());
        return;
      }
    }
    if (port_ == 0) error_ = "s3rver did not start within 30 s: " + log();
  }

  TemporaryDirectory data_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace slipway::testing
