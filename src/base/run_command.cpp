#include "base/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <optional>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"

extern char** environ;

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Reads both pipes until both reach end of file, so neither can fill up and block the child.
// Past `deadline` (when there is one) the child's process group is killed, which closes the
// pipes of all of it.
void drain(int out_fd, int err_fd, pid_t group, std::optional<SteadyClock::time_point> deadline,
           CommandOutput& output) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* targets[2] = {&output.out, &output.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - SteadyClock::now()).count();
      if (left <= 0 && !output.timed_out) {
        output.timed_out = true;
        ::kill(-group, SIGKILL);
      }
      wait_ms = output.timed_out ? -1 : static_cast<int>(std::min<long long>(left, 60'000));
    }
    int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        targets[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const std::filesystem::path& working_directory) {
  return run_command(argv, CommandOptions{working_directory, std::nullopt, {}});
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  const std::filesystem::path& working_directory = options.working_directory;
  if (argv.empty()) return make_error("run_command: no program given");
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return make_error(fmt::format("pipe: {}", errno_text(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]), ::close(out_pipe[1]);
    return make_error(fmt::format("pipe: {}", errno_text(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // Nothing else of ours goes with it: a helper that daemonizes (HAProxy) would otherwise keep
  // the server's listening socket and database open after the server is gone.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, working_directory.c_str());
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> environment;
  if (options.environment) {
    for (const auto& entry : *options.environment) environment.push_back(const_cast<char*>(entry.c_str()));
    environment.push_back(nullptr);
  }
  // A process group of its own, so that a timeout stops what the program started too.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  if (options.timeout.count() > 0) {
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
  }
  pid_t pid = 0;
  int spawn_error = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(),
                                   options.environment ? environment.data() : environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandOutput output;
  std::optional<SteadyClock::time_point> deadline;
  if (options.timeout.count() > 0) deadline = SteadyClock::now() + options.timeout;
  if (spawn_error == 0) drain(out_pipe[0], err_pipe[0], pid, deadline, output);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (spawn_error != 0) {
    return make_error(fmt::format("cannot run {}: {}", argv[0], errno_text(spawn_error)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // posix_spawnp reports a missing program through the child's exit status 127.
  if (output.exit_code == 127 && output.out.empty() && output.err.empty()) {
    return make_error(fmt::format("cannot run {}: program not found", argv[0]));
  }
  return output;
}

Result<std::string> run_command_checked(const std::vector<std::string>& argv,
                                        const std::filesystem::path& working_directory) {
  auto output = run_command(argv, working_directory);
  if (!output) return output.error();
  if (output->exit_code != 0) {
    std::string detail(trim(output->err.empty() ? output->out : output->err));
    return make_error(fmt::format("{} failed (exit {}): {}", argv[0], output->exit_code, detail));
  }
  return std::move(output->out);
}

}  // namespace slipway
