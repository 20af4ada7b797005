// The child is started the way glibc's posix_spawn does it — clone(CLONE_VM | CLONE_VFORK) on a
// stack of its own, the server's thread suspended until exec — because posix_spawn has no way
// to join a cgroup, a namespace or another uid first, and fork() would copy a multi-threaded
// server whose other threads may hold locks the child could then wait on forever. The child
// shares the server's memory until exec, so it only makes system calls on data prepared here:
// no allocation, no locks, no glibc wrapper that coordinates threads (setresuid() would signal
// every thread of the server to change their ids too: the raw system calls change the child's
// alone). All signals are blocked around the clone so that no handler of the server runs in
// the child before the child has reset them.
#include "base/child_entry.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "base/files.h"
#include "base/sandbox_entry.h"

namespace slipway {

namespace {

constexpr size_t kChildStackBytes = 64 * 1024;

// The kernel's struct sigaction (x86-64 and the others Debian builds for: handler, flags,
// restorer, a 64-bit mask). The raw call, because glibc's sigaction() refuses the two real-time
// signals it reserves (32 and 33), and an ignored one is inherited through exec: a server started
// with them ignored would pass that on to every step.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

int entry_child(void* argument) {
  auto* plan = static_cast<EntryPlan*>(argument);
  const KernelSigaction default_action{SIG_DFL, 0, nullptr, 0};
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) {
      ::syscall(SYS_rt_sigaction, signal, &default_action, nullptr, sizeof default_action.mask);
    }
  }
  if (::setsid() < 0) give_up(plan, "start a session");
  int in = plan->stdin_fd >= 0 ? plan->stdin_fd : ::open("/dev/null", O_RDONLY);
  if (in < 0) give_up(plan, "open /dev/null");
  if ((in != 0 && ::dup2(in, 0) < 0) || ::dup2(plan->out_fd, 1) < 0 || ::dup2(plan->err_fd, 2) < 0) {
    give_up(plan, "set up the standard descriptors");
  }
  if (::chdir(plan->cwd) < 0) give_up(plan, "enter the working directory");
  for (size_t i = 0; i < plan->cgroup_count; ++i) {
    if (::write(plan->cgroup_fds[i], "0", 1) != 1) give_up(plan, "join the job's cgroup");
  }
  if (plan->netns_fd >= 0 && ::setns(plan->netns_fd, CLONE_NEWNET) < 0) give_up(plan, "join the job's network namespace");
  if (plan->private_mounts) {
    if (::unshare(CLONE_NEWNS) < 0) give_up(plan, "make a mount namespace of its own");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) give_up(plan, "make its mounts private");
  }
  if (plan->sandbox) start_sandbox(plan);  // does not return
  if (plan->drop_ids) {
    if (::syscall(SYS_setgroups, 0, nullptr) < 0) give_up(plan, "drop the supplementary groups");
    if (::syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) < 0) give_up(plan, "take the job's group");
    if (::syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) < 0) give_up(plan, "take the job's user");
  }
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) < 0) give_up(plan, "close the server's descriptors");
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(plan->path, plan->argv, plan->envp);
  give_up(plan, "run the program");
}

}  // namespace

[[noreturn]] void give_up(EntryPlan* plan, const char* step) {
  plan->failure.error = errno != 0 ? errno : EIO;  // fields, not a new struct: nothing allocates here
  plan->failure.step = step;
  ::_exit(127);
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

EntryFailure spawn_entering(pid_t* pid, std::shared_ptr<void>* init_stack, const SpawnRequest& request, int stdin_fd,
                            int out_fd, int err_fd) {
  const ProcessEntry& entry = request.enter;
  std::vector<UniqueFd> cgroups;
  std::vector<int> cgroup_fds;
  for (const auto& procs : entry.cgroups) {
    cgroups.emplace_back(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!cgroups.back().valid()) return {errno, "open the job's cgroup"};
    cgroup_fds.push_back(cgroups.back().get());
  }
  UniqueFd netns;
  if (!entry.network_namespace.empty()) {
    netns.reset(::open(entry.network_namespace.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns.valid()) return {errno, "open the job's network namespace"};
  }
  std::vector<char*> argv = c_strings(request.argv);
  std::vector<char*> envp = c_strings(request.env);
  std::unique_ptr<PreparedSandbox> sandbox;
  if (entry.sandbox) {
    // Without root the ids cannot change: the sandbox maps the server's own.
    EntryFailure prepared = prepare_sandbox(*entry.sandbox, entry.drop_ids ? entry.uid : ::geteuid(),
                                            entry.drop_ids ? entry.gid : ::getegid(), &sandbox);
    if (prepared.error != 0) return prepared;
    *init_stack = sandbox->init_stack;
  }
  EntryPlan plan{argv[0],        argv.data(),       envp.data(),    request.cwd.c_str(), stdin_fd,
                 out_fd,         err_fd,            cgroup_fds.data(), cgroup_fds.size(), netns.get(),
                 entry.private_mounts, entry.drop_ids, entry.uid, entry.gid, sandbox.get(), -1, {}};
  void* stack = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return {errno, "allocate the child's stack"};
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t child = ::clone(entry_child, static_cast<char*>(stack) + kChildStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::munmap(stack, kChildStackBytes);
  if (child < 0) return {clone_error, "start a process"};
  if (plan.sandbox) {
    // The child only started the sandbox's init (our child too) and has exited; the program's
    // process is the init.
    ::waitpid(child, nullptr, 0);
    if (plan.failure.error != 0) {
      if (plan.init_pid > 0) ::waitpid(plan.init_pid, nullptr, 0);
      if (plan.failure.subject) plan.failure.detail = plan.failure.subject;  // it points into `sandbox`
      plan.failure.subject = nullptr;
      return plan.failure;
    }
    *pid = plan.init_pid;
    return {};
  }
  if (plan.failure.error != 0) {
    ::waitpid(child, nullptr, 0);
    return plan.failure;
  }
  *pid = child;
  return {};
}

}  // namespace slipway
