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
#include "base/unique_fd.h"

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

namespace {

// Starts the program with stdin from /dev/null and stdout and stderr on the given pipe ends, in
// a process group of its own when it has a timeout (so that the timeout stops what it started
// too). Nothing else of ours goes with it: a helper that daemonizes (HAProxy) would otherwise
// keep the server's listening socket and database open after the server is gone.
Result<pid_t> spawn_command(const std::vector<std::string>& argv, const CommandOptions& options, int out, int err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> environment;
  if (options.environment) {
    for (const auto& entry : *options.environment) environment.push_back(const_cast<char*>(entry.c_str()));
    environment.push_back(nullptr);
  }
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
  if (spawn_error != 0) return make_error(fmt::format("cannot run {}: {}", argv[0], errno_text(spawn_error)));
  return pid;
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return make_error(fmt::format("pipe: {}", errno_text(errno)));
  return std::pair<UniqueFd, UniqueFd>{UniqueFd(ends[0]), UniqueFd(ends[1])};
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  if (argv.empty()) return make_error("run_command: no program given");
  auto out = make_pipe();
  if (!out) return out.error();
  auto err = make_pipe();
  if (!err) return err.error();
  auto pid = spawn_command(argv, options, out->second.get(), err->second.get());
  // Only the child holds the write ends now: its exit is the pipes' end of file.
  out->second.reset();
  err->second.reset();
  if (!pid) return pid.error();
  CommandOutput output;
  std::optional<SteadyClock::time_point> deadline;
  if (options.timeout.count() > 0) deadline = SteadyClock::now() + options.timeout;
  drain(out->first.get(), err->first.get(), *pid, deadline, output);
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
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
