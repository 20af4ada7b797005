#include "base/child_process.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "base/child_entry.h"
#include "base/files.h"

namespace slipway {

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int send_signal_by_pidfd(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

constexpr int kOutputPipeBytes = 1 << 20;

// Both ends close-on-exec and numbered 3 or above: if the server was started with stdin or
// stdout closed, pipe2 could hand out 0 or 1, and the child's dup2 onto 0..2 would clobber them.
Result<Pipe> make_output_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    return make_error(
        fmt::format("cannot create a pipe for the child's output: {}", errno_text(errno)));
  }
  Pipe pipe;
  for (int i = 0; i < 2; ++i) {
    int fd = ends[i] >= 3 ? ends[i] : ::fcntl(ends[i], F_DUPFD_CLOEXEC, 3);
    if (fd != ends[i]) ::close(ends[i]);
    (i == 0 ? pipe.read : pipe.write).reset(fd);
  }
  if (!pipe.read.valid() || !pipe.write.valid()) {
    return make_error(fmt::format("cannot set up the child's output pipe: {}", errno_text(errno)));
  }
  // Only our end is non-blocking (the flag belongs to the open file, not the pipe): the child
  // keeps ordinary blocking writes.
  ::fcntl(pipe.read.get(), F_SETFL, ::fcntl(pipe.read.get(), F_GETFL) | O_NONBLOCK);
  // A larger pipe than Linux's 64 KiB: a chatty child (a test suite printing a gigabyte) fills
  // it less often, so it and the reader switch places fewer times per byte. Best effort: an
  // unprivileged user's pipes may be capped lower (fs.pipe-user-pages-soft).
  ::fcntl(pipe.read.get(), F_SETPIPE_SZ, kOutputPipeBytes);
  return pipe;
}

// posix_spawn rather than fork+exec: the server is multi-threaded, and glibc's posix_spawn
// (clone with CLONE_VFORK) runs no user code in the child and reports exec and chdir failures
// as a return value instead of through a hand-made error pipe. Everything a child needs is
// expressible: a new session, default signal dispositions (the server may ignore SIGPIPE, which
// exec would otherwise pass on), an empty signal mask, and closefrom(3) so that no descriptor
// of the server, close-on-exec or not, reaches the child.
int spawn_with_actions(pid_t* pid, const SpawnRequest& request, const Pipe& out, const Pipe& err,
                       const UniqueFd& stdin_read) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_read.valid()) {
    posix_spawn_file_actions_adddup2(&actions, stdin_read.get(), 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
  posix_spawn_file_actions_addchdir_np(&actions, request.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attributes, &all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);

  std::vector<char*> argv = c_strings(request.argv);
  std::vector<char*> envp = c_strings(request.env);
  int error = ::posix_spawn(pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return error;
}

ExitStatus to_exit_status(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return ExitStatus{info.si_status, 0};
  return ExitStatus{-1, info.si_status};
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const SpawnRequest& request) {
  if (request.argv.empty()) return make_error("cannot start a process: no command given");
  Result<Pipe> out = make_output_pipe();
  if (!out) return out.error();
  Result<Pipe> err = make_output_pipe();
  if (!err) return err.error();

  Pipe lifeline;
  if (request.stdin_lifeline) {
    auto made = make_output_pipe();  // both ends close-on-exec: no other child inherits ours
    if (!made) return made.error();
    lifeline = std::move(*made);
    // Reversed roles: the child reads this one, with ordinary blocking reads.
    ::fcntl(lifeline.read.get(), F_SETFL, ::fcntl(lifeline.read.get(), F_GETFL) & ~O_NONBLOCK);
  }

  pid_t pid = -1;
  std::shared_ptr<void> init_stack;
  if (!request.enter.empty()) {
    EntryFailure failed =
        spawn_entering(&pid, &init_stack, request, lifeline.read.get(), out->write.get(), err->write.get());
    lifeline.read.reset();
    if (failed.error != 0) {
      return make_error(fmt::format("cannot start {} in {}: cannot {}{}: {}", request.argv[0], request.cwd.string(),
                                    failed.step, failed.detail.empty() ? "" : " (" + failed.detail + ")",
                                    errno_text(failed.error)));
    }
  } else {
    int error = spawn_with_actions(&pid, request, *out, *err, lifeline.read);
    lifeline.read.reset();
    if (error != 0) {
      return make_error(fmt::format("cannot start {} in {}: {}", request.argv[0],
                                    request.cwd.string(), errno_text(error)));
    }
  }
  // Safe from pid reuse: the child is ours and not yet reaped, so the number is still its.
  UniqueFd pidfd(open_pidfd(pid));
  if (!pidfd.valid()) {
    int saved = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return make_error(
        fmt::format("cannot watch the child process (pidfd_open needs Linux 5.3 "
                    "or later): {}",
                    errno_text(saved)));
  }
  ChildProcess child(pid, std::move(pidfd), std::move(out->read), std::move(err->read), std::move(lifeline.write));
  child.init_stack_ = std::move(init_stack);
  return child;
}

ChildProcess::ChildProcess(pid_t pid, UniqueFd pidfd, UniqueFd out, UniqueFd err, UniqueFd lifeline)
    : pid_(pid),
      pidfd_(std::move(pidfd)),
      stdout_(std::move(out)),
      stderr_(std::move(err)),
      lifeline_(std::move(lifeline)) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      pidfd_(std::move(other.pidfd_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)),
      lifeline_(std::move(other.lifeline_)),
      init_stack_(std::move(other.init_stack_)) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    // Only reached on an error path of the owner; a zombie or a stray process would be worse.
    send_signal_by_pidfd(pidfd_.get(), SIGKILL);
    reap();
  }
}

std::optional<ExitStatus> ChildProcess::peek_exit() const {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid == 0) {
    return std::nullopt;
  }
  return to_exit_status(info);
}

bool ChildProcess::has_exited() const {
  pollfd entry{pidfd_.get(), POLLIN, 0};
  return ::poll(&entry, 1, 0) > 0;
}

ExitStatus ChildProcess::reap() {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {
  }
  reaped_ = true;
  return to_exit_status(info);
}

}  // namespace slipway
