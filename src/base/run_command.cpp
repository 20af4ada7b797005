#include "base/run_command.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>

#include <fmt/core.h>

#include "base/child_process.h"
#include "base/files.h"
#include "base/pipe_write.h"
#include "base/process_environment.h"
#include "base/strings.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Feeds `input` to the child's stdin (non-blocking, closed once all is written or the child
// stops reading) and reads both pipes until both reach end of file, so neither side can fill a
// pipe and block the other. Past `deadline` (when there is one) the child's process group is
// killed, which closes the pipes of all of it.
void drain(ChildProcess& child, std::string_view input, std::optional<SteadyClock::time_point> deadline,
           CommandOutput& output) {
  pollfd fds[3] = {{child.stdout_fd().get(), POLLIN, 0}, {child.stderr_fd().get(), POLLIN, 0},
                   {child.stdin_fd().get(), POLLOUT, 0}};
  std::string* targets[2] = {&output.out, &output.err};
  int open_count = 2;
  char buffer[65536];
  auto stop_feeding = [&] {
    child.stdin_fd().reset();
    fds[2].fd = -1;
  };
  if (input.empty()) stop_feeding();
  while (open_count > 0) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - SteadyClock::now()).count();
      if (left <= 0 && !output.timed_out) {
        output.timed_out = true;
        ::kill(-child.pid(), SIGKILL);
        stop_feeding();
      }
      wait_ms = output.timed_out ? -1 : static_cast<int>(std::min<long long>(left, 60'000));
    }
    int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write_to_pipe(fds[2].fd, input);
      if (n > 0) input.remove_prefix(static_cast<size_t>(n));
      if (input.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) stop_feeding();  // EPIPE: it stopped reading
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        targets[i]->append(buffer, static_cast<size_t>(n));
      } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;  // the pipes are non-blocking (ChildProcess): nothing to read after all
      } else {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  stop_feeding();
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const std::filesystem::path& working_directory) {
  return run_command(argv, CommandOptions{working_directory, std::nullopt, {}});
}

namespace {

// `name` itself when it names a path; else the first executable `name` on this process's PATH,
// searched as posix_spawnp would; empty when there is none.
std::filesystem::path program_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (const std::string& folder : split(path ? path : "/usr/bin:/bin", ':')) {
    std::filesystem::path candidate = std::filesystem::path(folder.empty() ? "." : folder) / name;
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace

// Started through ChildProcess, the one way Slipway starts a program (posix_spawn, a session of
// its own, default signal dispositions, no descriptor of ours): a timeout kills the session's
// process group, so git's ssh and remote helpers go with it.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  if (argv.empty()) return make_error("run_command: no program given");
  SpawnRequest request;
  request.argv = argv;
  request.argv[0] = program_on_path(argv[0]).string();
  if (request.argv[0].empty()) return make_error(ErrorKind::not_found, fmt::format("cannot run {}: program not found", argv[0]));
  request.env = options.environment ? *options.environment : helper_environment();
  std::error_code error;
  request.cwd = options.working_directory.empty() ? std::filesystem::current_path(error) : options.working_directory;
  request.stdin_lifeline = options.input.has_value();
  auto child = ChildProcess::spawn(request);
  if (!child) return child.error();
  CommandOutput output;
  std::optional<SteadyClock::time_point> deadline;
  if (options.timeout.count() > 0) deadline = SteadyClock::now() + options.timeout;
  drain(*child, options.input ? std::string_view(*options.input) : std::string_view(), deadline, output);
  ExitStatus status = child->reap();
  output.exit_code = status.signal == 0 ? status.exit_code : -1;
  return output;
}

Result<std::string> run_command_checked(const std::vector<std::string>& argv,
                                        const std::filesystem::path& working_directory, std::string_view name) {
  auto output = run_command(argv, working_directory);
  if (!output) return output.error();
  if (output->exit_code != 0) {
    std::string detail(trim(output->err.empty() ? output->out : output->err));
    return make_error(fmt::format("{} failed (exit {}): {}", name.empty() ? std::string_view(argv[0]) : name,
                                  output->exit_code, detail));
  }
  return std::move(output->out);
}

}  // namespace slipway
