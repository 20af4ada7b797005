#include "base/sandbox_entry.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "base/network_namespace.h"

namespace slipway {

namespace {

#ifndef AT_RECURSIVE
constexpr unsigned kAtRecursive = 0x8000;
#else
constexpr unsigned kAtRecursive = AT_RECURSIVE;
#endif

constexpr size_t kInitStackBytes = 128 * 1024;     // the init's frames and the program's clone stack
constexpr size_t kProgramStackBytes = 32 * 1024;   // on the init's stack, used until the exec

// A system call that writes no errno: what the init may make once the server runs again beside
// it (errno lives in the thread's TLS, which the init shares with the server's thread).
long raw_syscall(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
#if defined(__x86_64__)
  long result;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return result;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
#else
#error "raw_syscall: add this architecture's system call instruction"
#endif
}

// How the init and the program's process report a failed set-up: through the entering child's
// pipe rather than `plan`, because without root the init has a memory of its own. The pointers
// stay valid in the server: `step` is a literal and `subject` points into the PreparedSandbox,
// both at the same addresses in a copy of the server's memory.
struct ReportedFailure {
  int error;
  const char* step;
  const char* subject;
};

[[noreturn]] void give_up_on(EntryPlan* plan, const char* step, const char* subject) {
  ReportedFailure failure{errno != 0 ? errno : EIO, step, subject};
  // One write of a few bytes to a pipe: atomic, and nothing else can fail here.
  if (::write(plan->sandbox->report_fd, &failure, sizeof failure) < 0) ::_exit(126);
  ::_exit(127);
}

[[noreturn]] void give_up_inside(EntryPlan* plan, const char* step) { give_up_on(plan, step, nullptr); }

int write_text(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t length = static_cast<ssize_t>(std::strlen(text));
  ssize_t written = ::write(fd, text, static_cast<size_t>(length));
  int saved = errno;
  ::close(fd);
  errno = saved;
  return written == length ? 0 : -1;
}

int set_attributes(const char* path, unsigned flags, uint64_t attributes) {
  struct mount_attr attr {};
  attr.attr_set = attributes;
  return static_cast<int>(::syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr));
}

// Every folder on the way to `path` (not `path` itself), as needed.
void make_parents(EntryPlan* plan, const char* path) {
  char buffer[PATH_MAX];
  size_t length = std::strlen(path);
  if (length >= sizeof buffer) {
    errno = ENAMETOOLONG;
    give_up_on(plan, "make a mount point in the sandbox", path);
  }
  std::memcpy(buffer, path, length + 1);
  for (size_t i = 1; i < length; ++i) {
    if (buffer[i] != '/') continue;
    buffer[i] = '\0';
    if (::mkdir(buffer, 0755) < 0 && errno != EEXIST) give_up_on(plan, "make a folder in the sandbox", path);
    buffer[i] = '/';
  }
}

void make_mount_point(EntryPlan* plan, const PreparedSandbox::Mount& mount) {
  make_parents(plan, mount.target);
  if (!mount.file) {
    if (::mkdir(mount.target, 0755) < 0 && errno != EEXIST) give_up_on(plan, "make a mount point in the sandbox", mount.target);
    return;
  }
  struct stat status {};
  if (::stat(mount.target, &status) == 0) return;
  int fd = ::open(mount.target, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) give_up_on(plan, "make a mount point in the sandbox", mount.target);
  ::close(fd);
}

void bind(EntryPlan* plan, const PreparedSandbox::Mount& mount, uint64_t attributes) {
  make_mount_point(plan, mount);
  if (::mount(mount.source, mount.target, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    give_up_on(plan, "bind a folder into the sandbox", mount.target);
  }
  if (set_attributes(mount.target, kAtRecursive, attributes) < 0) give_up_on(plan, "restrict a mount of the sandbox", mount.target);
}

void apply(EntryPlan* plan, const PreparedSandbox::Mount& mount) {
  using Kind = SandboxMount::Kind;
  switch (mount.kind) {
    case Kind::bind_read_only:
      return bind(plan, mount, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    case Kind::bind:
      return bind(plan, mount, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    case Kind::bind_device:
      return bind(plan, mount, MOUNT_ATTR_NOSUID);
    case Kind::tmpfs:
      make_mount_point(plan, mount);
      if (::mount("tmpfs", mount.target, "tmpfs", MS_NOSUID | MS_NODEV, mount.source) < 0) {
        give_up_on(plan, "mount a tmpfs in the sandbox", mount.target);
      }
      return;
    case Kind::symlink:
      make_parents(plan, mount.target);
      if (::symlink(mount.source, mount.target) < 0) give_up_on(plan, "make a symbolic link in the sandbox", mount.target);
      return;
    case Kind::proc:
      make_mount_point(plan, mount);
      if (::mount("proc", mount.target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
        give_up_on(plan, "mount /proc in the sandbox", mount.target);
      }
      return;
    case Kind::devpts:
      make_mount_point(plan, mount);
      if (::mount("devpts", mount.target, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0) {
        give_up_on(plan, "mount a devpts in the sandbox", mount.target);
      }
      return;
  }
}

// The new root: a tmpfs on the staging folder, entered with pivot_root so that every path of
// the mounts (and every symbolic link met on the way) resolves inside it; the host's tree stays
// reachable as /oldroot for the sources until it is detached.
void build_root(EntryPlan* plan, const PreparedSandbox& box) {
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) give_up_on(plan, "make the sandbox's mounts its own", "/");
  if (::mount("tmpfs", box.staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
    give_up_on(plan, "mount the sandbox's root", box.staging);
  }
  if (::chdir(box.staging) < 0 || ::mkdir("oldroot", 0700) < 0) give_up_on(plan, "prepare the sandbox's root", box.staging);
  if (::syscall(SYS_pivot_root, ".", "oldroot") < 0 || ::chdir("/") < 0) {
    give_up_on(plan, "move into the sandbox's root", box.staging);
  }
  for (const PreparedSandbox::Mount& mount : box.mounts) apply(plan, mount);
  if (::umount2("/oldroot", MNT_DETACH) < 0 || ::rmdir("/oldroot") < 0) {
    give_up_on(plan, "detach the host's file system", "/oldroot");
  }
  if (set_attributes("/", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0) {
    give_up_on(plan, "make the sandbox's root read-only", "/");
  }
}

// The program's process: no way back to any privilege, then the program.
int run_program(void* argument) {
  auto* plan = static_cast<EntryPlan*>(argument);
  const PreparedSandbox& box = *plan->sandbox;
  if (::chdir(box.workdir) < 0) give_up_on(plan, "enter the working directory", box.workdir);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) give_up_inside(plan, "set no_new_privs");
  for (int capability = 0; capability < 64; ++capability) {
    if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0 && errno != EINVAL) give_up_inside(plan, "drop the capability bounding set");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) give_up_inside(plan, "clear the ambient capabilities");
  // Raw calls: glibc's set*id() would signal the server's threads to change their ids too.
  if (::syscall(SYS_setresgid, box.gid, box.gid, box.gid) < 0) give_up_inside(plan, "take the job's group");
  if (::syscall(SYS_setresuid, box.uid, box.uid, box.uid) < 0) give_up_inside(plan, "take the job's user");
  // The server's descriptors, all of them (this process copied the server's table): closed at
  // the exec rather than now, because the entering child waits for the exec by the end of file
  // of a pipe whose end is one of them, and must not let the server run on (and free `plan`)
  // before this process is done with it.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) give_up_inside(plan, "close the server's descriptors");
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(plan->path, plan->argv, plan->envp);
  give_up_inside(plan, "run the program");
}

[[noreturn]] void exit_like(int status) {
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  for (;;) raw_syscall(SYS_exit_group, code);
}

// PID 1 of the sandbox.
int sandbox_init(void* argument) {
  auto* plan = static_cast<EntryPlan*>(argument);
  const PreparedSandbox& box = *plan->sandbox;
  if (box.maps_from_outside) {
    char go = 0;
    if (::read(box.go_read.get(), &go, 1) != 1) give_up_inside(plan, "wait for the sandbox's user mapping");
  } else {
    // Without root this process has a memory of its own (a copy of the server's), and maps only
    // the server's own ids, which an unprivileged process may do for itself; then no process of
    // the same user may read that memory.
    const char* steps[][2] = {{"/proc/self/uid_map", box.id_map[0]}, {"/proc/self/setgroups", "deny"},
                              {"/proc/self/gid_map", box.id_map[1]}};
    for (const auto& [path, text] : steps) {
      if (write_text(path, text) < 0) give_up_on(plan, "map the server's user into the sandbox", path);
    }
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) give_up_inside(plan, "make the sandbox's init undumpable");
  }
  // Files the init makes (mount points) belong to the job's ids: the init's own root is not
  // mapped in the new user namespace, and an unmapped owner can create nothing there.
  ::syscall(SYS_setfsgid, box.gid);
  ::syscall(SYS_setfsuid, box.uid);
  if (::setsid() < 0) give_up_inside(plan, "start a session");
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) give_up_inside(plan, "tie the sandbox to the server's life");
  // The new user namespace may hold no other: a step with a user namespace of its own would be
  // root there and reach kernel interfaces (mounts, netfilter) that are closed to it here.
  if (write_text("/proc/sys/user/max_user_namespaces", "0") < 0) give_up_inside(plan, "forbid user namespaces in the sandbox");
  if (box.new_network && bring_loopback_up() < 0) give_up_inside(plan, "bring the sandbox's loopback up");
  build_root(plan, box);
  alignas(16) char program_stack[kProgramStackBytes];
  long program = ::clone(run_program, program_stack + sizeof program_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, plan);
  if (program < 0) give_up_inside(plan, "start the program");
  // The program has exec'd or failed (and then reported why). Closing the descriptors (the
  // entering child's pipe among them) lets the server run again: from here on, raw system calls
  // only, and nothing of `plan`.
  raw_syscall(SYS_close_range, 0, ~0L, 0);
  for (;;) {
    int status = 0;
    long reaped = raw_syscall(SYS_wait4, -1, reinterpret_cast<long>(&status), __WALL, 0);
    if (reaped == program) exit_like(status);
    if (reaped == -ECHILD) exit_like(127 << 8);
  }
}

// "/proc/PID/NAME" without allocating.
void proc_path(char (&buffer)[64], pid_t pid, const char* name) {
  char digits[16];
  int count = 0;
  for (unsigned value = static_cast<unsigned>(pid); value != 0 || count == 0; value /= 10) digits[count++] = static_cast<char>('0' + value % 10);
  size_t at = 0;
  for (const char* c = "/proc/"; *c != '\0';) buffer[at++] = *c++;
  while (count > 0) buffer[at++] = digits[--count];
  buffer[at++] = '/';
  for (const char* c = name; *c != '\0' && at + 1 < sizeof buffer;) buffer[at++] = *c++;
  buffer[at] = '\0';
}

}  // namespace

[[noreturn]] void start_sandbox(EntryPlan* plan) {
  PreparedSandbox& box = *plan->sandbox;
  if (plan->drop_ids && ::syscall(SYS_setgroups, 0, nullptr) < 0) give_up(plan, "drop the supplementary groups");
  int started[2];
  if (::pipe2(started, O_CLOEXEC) < 0) give_up(plan, "create a pipe");
  box.report_fd = started[1];
  int flags = CLONE_PARENT | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
              SIGCHLD | (box.new_network ? CLONE_NEWNET : 0);
  if (box.maps_from_outside) {
    // The init runs in the server's memory, as a process the job's uid can name (PID 1): that
    // memory must not be dumpable, or a step could ptrace the init, or read /proc/1/mem, and so
    // the server. It is the server's whole memory: the server stays undumpable (no core dumps).
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) give_up(plan, "make the server's memory undumpable");
    flags |= CLONE_VM;
  }
  char* stack_top = static_cast<char*>(box.init_stack.get()) + kInitStackBytes;
  pid_t init = ::clone(sandbox_init, stack_top, flags, plan);
  if (init < 0) give_up(plan, "create the sandbox's namespaces");
  plan->init_pid = init;
  ::close(started[1]);
  if (box.maps_from_outside) {
    char path[64];
    const char* steps[][2] = {{"uid_map", box.id_map[0]}, {"setgroups", "deny"}, {"gid_map", box.id_map[1]}};
    for (const auto& [name, text] : steps) {
      proc_path(path, init, name);
      if (write_text(path, text) < 0) {
        int saved = errno;
        ::kill(init, SIGKILL);
        errno = saved;
        give_up(plan, "map the job's user into the sandbox");
      }
    }
    if (::write(box.go_write.get(), "g", 1) != 1) {
      int saved = errno;
      ::kill(init, SIGKILL);
      errno = saved;
      give_up(plan, "start the sandbox");
    }
  }
  // End of file once the program has started (its copy of the pipe closed on exec, the init's
  // closed after); a ReportedFailure first when the set-up failed.
  ReportedFailure failure{};
  size_t got = 0;
  for (;;) {
    ssize_t n = ::read(started[0], reinterpret_cast<char*>(&failure) + got, got < sizeof failure ? sizeof failure - got : 0);
    if (n > 0) got += static_cast<size_t>(n);
    if (n == 0 || got == sizeof failure || (n < 0 && errno != EINTR)) break;
  }
  if (got == sizeof failure) {
    plan->failure.error = failure.error;
    plan->failure.step = failure.step;
    plan->failure.subject = failure.subject;
  }
  ::_exit(0);
}

EntryFailure prepare_sandbox(const SandboxSpec& spec, uid_t uid, gid_t gid, std::unique_ptr<PreparedSandbox>* out) {
  auto box = std::make_unique<PreparedSandbox>();
  auto keep = [&](std::string text) { return box->strings.emplace_back(std::move(text)).c_str(); };
  for (const SandboxMount& mount : spec.mounts) {
    const bool bind = mount.kind == SandboxMount::Kind::bind_read_only || mount.kind == SandboxMount::Kind::bind ||
                      mount.kind == SandboxMount::Kind::bind_device;
    const char* source = keep(bind ? "/oldroot" + mount.source : mount.source);
    box->mounts.push_back({mount.kind, source, keep(mount.target), mount.file});
  }
  box->staging = keep(spec.staging.string());
  box->workdir = keep(spec.workdir.string());
  box->new_network = spec.new_network;
  box->uid = uid;
  box->gid = gid;
  box->maps_from_outside = ::geteuid() == 0;
  std::snprintf(box->id_map[0], sizeof box->id_map[0], "%u %u 1", uid, uid);
  std::snprintf(box->id_map[1], sizeof box->id_map[1], "%u %u 1", gid, gid);
  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) return {errno, "create a pipe"};
  box->go_read.reset(go[0]);
  box->go_write.reset(go[1]);
  void* stack = ::mmap(nullptr, kInitStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return {errno, "allocate the sandbox init's stack"};
  box->init_stack = std::shared_ptr<void>(stack, [](void* mapped) { ::munmap(mapped, kInitStackBytes); });
  *out = std::move(box);
  return {};
}

}  // namespace slipway
