#include "cd/verify_command.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/core.h>

namespace slipway {

namespace {

constexpr size_t kTailBytes = 2048;

// The child: own process group (so a timeout kills everything it started), output into the
// pipe, the extra variables on top of the server's environment.
[[noreturn]] void exec_child(const std::string& command, const std::map<std::string, std::string>& env, int output) {
  setpgid(0, 0);
  dup2(output, STDOUT_FILENO);
  dup2(output, STDERR_FILENO);
  int null_input = open("/dev/null", O_RDONLY);
  if (null_input >= 0) dup2(null_input, STDIN_FILENO);
  close_range(3, ~0U, 0);  // the server's sockets and database stay the server's
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

void append_tail(std::string& tail, const char* data, size_t size) {
  tail.append(data, size);
  if (tail.size() > 2 * kTailBytes) tail.erase(0, tail.size() - kTailBytes);
}

}  // namespace

Result<VerifyOutcome> run_verify_command(const std::string& command, const std::map<std::string, std::string>& env,
                                         Milliseconds timeout) {
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0) return make_error(fmt::format("deploy.verify: pipe: {}", strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    return make_error(fmt::format("deploy.verify: cannot start /bin/sh: {}", strerror(errno)));
  }
  if (pid == 0) exec_child(command, env, pipe_ends[1]);
  close(pipe_ends[1]);
  fcntl(pipe_ends[0], F_SETFL, O_NONBLOCK);

  VerifyOutcome outcome;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int wait_status = 0;
  char buffer[4096];
  for (;;) {
    ssize_t got;
    while ((got = read(pipe_ends[0], buffer, sizeof buffer)) > 0) append_tail(outcome.output_tail, buffer, got);
    pid_t done = waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) break;
    if (!outcome.timed_out && std::chrono::steady_clock::now() >= deadline) {
      outcome.timed_out = true;
      kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever the group wrote before it went; a grandchild holding the pipe is killed with it.
  kill(-pid, SIGKILL);
  ssize_t got;
  while ((got = read(pipe_ends[0], buffer, sizeof buffer)) > 0) append_tail(outcome.output_tail, buffer, got);
  close(pipe_ends[0]);
  if (outcome.output_tail.size() > kTailBytes) outcome.output_tail.erase(0, outcome.output_tail.size() - kTailBytes);
  outcome.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  outcome.passed = !outcome.timed_out && outcome.exit_code == 0;
  return outcome;
}

}  // namespace slipway
