// ForegroundChild: a server program (nginx, fcgiwrap, sshd) that a test fixture runs in the
// foreground as its own child, stdout and stderr into a log file. Stopped with stop_child()
// when the object goes — so also when the fixture's constructor throws half-way — and sent
// SIGTERM by the kernel should the test process die first (PR_SET_PDEATHSIG). Plus
// run_setup_command, for the commands (openssl, ssh-keygen, htpasswd) that prepare such a server:
// it throws std::runtime_error, quoting their stderr, when they fail; and listening_on_loopback.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "base/run_command.h"
#include "stop_child.h"

namespace slipway::testing {

// Its stdout; throws std::runtime_error when it cannot start or exits non-zero.
inline std::string run_setup_command(const std::vector<std::string>& argv) {
  auto output = run_command_checked(argv);
  if (!output) throw std::runtime_error(output.error().message);
  return *output;
}

// Whether a socket listens on 127.0.0.1:`port`, as /proc/net/tcp says: no connection is made,
// since one would make sshd fork a child for it that can outlive the server.
inline bool listening_on_loopback(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string listening = fmt::format("0100007F:{:04X} 00000000:0000 0A", port);
  for (std::string line; std::getline(table, line);) {
    if (line.find(listening) != std::string::npos) return true;
  }
  return false;
}

class ForegroundChild {
 public:
  ForegroundChild() = default;
  ~ForegroundChild() { stop(); }
  ForegroundChild(const ForegroundChild&) = delete;
  ForegroundChild& operator=(const ForegroundChild&) = delete;

  // execv of `argv` (argv[0] an absolute path), output appended to `log`. Stops a previous one.
  void start(std::vector<std::string> argv, const std::filesystem::path& log) {
    stop();
    std::vector<char*> args;
    for (auto& argument : argv) args.push_back(argument.data());
    args.push_back(nullptr);
    std::string log_path = log.string();
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      int null = open("/dev/null", O_RDONLY);
      if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
      close_range(3, ~0U, 0);  // none of the test's sockets and files go with it
      execv(args[0], args.data());
      _exit(127);
    }
  }

  // True (and reaped) once the program has ended by itself.
  bool exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) pid_ = 0;
    return pid_ <= 0;
  }

  // Polls `ready` every 20 ms for up to `seconds`; false when the program ended or time ran out.
  bool wait_until(const std::function<bool()>& ready, int seconds = 10) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return false;
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void stop() { stop_child(pid_); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
};

}  // namespace slipway::testing
