#include "ci/job_sandbox.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/step_environment.h"
#include "base/strings.h"
#include "ci/sandbox_view.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// Where full-mode jobs keep their folders: outside the data directory (which stays 0700, so the
// job's uid could not reach a bind source inside it), on the host's /run, which is a tmpfs.
const fs::path kJobsRoot = "/run/slipway/jobs";
const fs::path kDockerSocket = "/var/run/docker.sock";
constexpr auto kNetworkReadyTimeout = std::chrono::seconds(5);

std::atomic<int> job_counter{0};

Status mount_or_error(const char* source, const fs::path& target, const char* type, unsigned long flags,
                      const std::string& options = "") {
  if (::mount(source, target.c_str(), type, flags, options.empty() ? nullptr : options.c_str()) == 0) return {};
  return make_error(fmt::format("cannot mount {} on {}: {}", source ? source : type, target.string(), errno_text(errno)));
}

Status make_owned_directory(const fs::path& path, uid_t uid, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return make_error(fmt::format("cannot create {}: {}", path.string(), errno_text(errno)));
  }
  if (::chown(path.c_str(), uid, uid) != 0 || ::chmod(path.c_str(), mode) != 0) {
    return make_error(fmt::format("cannot give {} to uid {}: {}", path.string(), uid, errno_text(errno)));
  }
  return {};
}

// The checkout was written by the server; the job's uid must own it to change tracked files.
Status give_tree_to(const fs::path& root, uid_t uid) {
  std::error_code error;
  if (::lchown(root.c_str(), uid, uid) != 0) {
    return make_error(fmt::format("cannot give the workspace {} to uid {}: {}", root.string(), uid, errno_text(errno)));
  }
  ::chmod(root.c_str(), 0700);
  for (fs::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    if (::lchown(it->path().c_str(), uid, uid) != 0) {
      return make_error(fmt::format("cannot give {} to uid {}: {}", it->path().string(), uid, errno_text(errno)));
    }
  }
  if (error) return make_error(fmt::format("cannot walk the workspace {}: {}", root.string(), error.message()));
  return {};
}

// The object folders a checkout borrows from (see ci/git_checkout.h), which git inside the
// sandbox must read at the same paths.
std::vector<fs::path> borrowed_object_folders(const fs::path& workspace) {
  std::vector<fs::path> folders;
  fs::path objects = workspace / ".git" / "objects";
  std::ifstream in(objects / "info" / "alternates");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    fs::path folder = fs::path(line).is_absolute() ? fs::path(line) : objects / line;
    std::error_code error;
    folder = fs::canonical(folder, error);
    if (!error && fs::is_directory(folder, error)) folders.push_back(folder);
  }
  return folders;
}

pid_t first_child(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/task/{}/children", pid, pid));
  pid_t child = 0;
  in >> child;
  return child;
}

// Whether `pid` has exec'd the program named `name` (its comm, at most 15 characters).
bool runs_program(pid_t pid, std::string_view name) {
  if (pid <= 0) return false;
  std::ifstream in(fmt::format("/proc/{}/comm", pid));
  std::string comm;
  std::getline(in, comm);
  return comm == name;
}

// The first line a child wrote to `fd` (non-blocking), for an error message; "" when none.
std::string first_line_of(UniqueFd& fd) {
  char buffer[512];
  ssize_t got = fd.valid() ? ::read(fd.get(), buffer, sizeof buffer) : -1;
  if (got <= 0) return "";
  std::string text(buffer, static_cast<size_t>(got));
  return text.substr(0, text.find('\n'));
}

bool has_default_route(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/net/route", pid));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string interface, destination;
    fields >> interface >> destination;
    if (destination == "00000000") return true;
  }
  return false;
}

void stop_child(std::unique_ptr<ChildProcess>& child) {
  if (!child) return;
  ::kill(child->pid(), SIGKILL);
  child->reap();
  child.reset();
}

std::string passwd_text(uid_t uid, gid_t gid) {
  return fmt::format(
      "root:x:0:0:root:/root:/usr/sbin/nologin\n"
      "slipway:x:{0}:{1}:Slipway job:{2}:/bin/bash\n"
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
      uid, gid, JobSandbox::home().string());
}

std::string group_text(gid_t gid) { return fmt::format("root:x:0:\nslipway:x:{0}:\nnogroup:x:65534:\n", gid); }

}  // namespace

bool JobSandbox::full_mode() { return ::geteuid() == 0; }

JobSandbox::JobSandbox(fs::path bwrap, JobSandboxRequest request)
    : bwrap_(std::move(bwrap)),
      nsenter_(find_program("nsenter")),
      prlimit_(find_program("prlimit")),
      request_(std::move(request)),
      full_(full_mode()) {}

Result<std::unique_ptr<JobSandbox>> JobSandbox::open(const fs::path& bwrap, const JobSandboxRequest& request) {
  std::unique_ptr<JobSandbox> sandbox(new JobSandbox(bwrap, request));
  if (!sandbox->full_) sandbox->request_.uid = ::getuid();
  sandbox->gid_ = sandbox->full_ ? sandbox->request_.uid : ::getgid();
  if (request.network_pid != 0 && !sandbox->full_) {
    return make_error(
        "service containers (`image:` services) need the server, or `slipway run`, to run as root: the job's "
        "steps must enter the containers' network namespace");
  }
  if (request.docker) {
    // The socket's group becomes the job's, which is what lets the unprivileged uid connect.
    struct stat socket_status {};
    if (::stat(kDockerSocket.c_str(), &socket_status) != 0 || !S_ISSOCK(socket_status.st_mode)) {
      return make_error(fmt::format("this repository is granted the Docker Engine, but {} is not a socket: is dockerd running?",
                                    kDockerSocket.string()));
    }
    sandbox->docker_socket_ = kDockerSocket;
    if (sandbox->full_) sandbox->gid_ = socket_status.st_gid;
  }
  if (Status ready = sandbox->prepare_root(); !ready) return ready.error();
  if (Status ready = sandbox->prepare_files(); !ready) return ready.error();
  auto cgroup = JobCgroup::create(sandbox->root_.filename().string(), request.limits);
  if (!cgroup) return cgroup.error();
  sandbox->cgroup_ = std::move(*cgroup);
  if (Status ready = sandbox->start_network(); !ready) return ready.error();
  return sandbox;
}

Status JobSandbox::prepare_root() {
  if (!full_) {
    root_ = request_.workspace.parent_path() / fmt::format("sandbox-{}", ++job_counter);
    for (const char* folder : {"", "tmp", "home", "etc"}) {
      if (Status made = make_directories(root_ / folder); !made) return made;
    }
    return {};
  }
  if (Status made = make_directories(kJobsRoot); !made) return made;
  // The job's uid walks these folders when bubblewrap binds from them; the server's umask (077)
  // would otherwise leave them root's alone. They hold nothing but the jobs' own folders.
  ::chmod(kJobsRoot.parent_path().c_str(), 0755);
  ::chmod(kJobsRoot.c_str(), 0755);
  root_ = kJobsRoot / fmt::format("{}-{}", ::getpid(), ++job_counter);
  if (::mkdir(root_.c_str(), 0755) != 0) {
    return make_error(fmt::format("cannot create the job folder {}: {}", root_.string(), errno_text(errno)));
  }
  std::string options = "mode=0755";
  if (request_.limits.tmp_bytes > 0) options += fmt::format(",size={}", request_.limits.tmp_bytes);
  if (Status mounted = mount_or_error("tmpfs", root_, "tmpfs", MS_NOSUID | MS_NODEV, options); !mounted) return mounted;
  mounts_.push_back(root_);
  const uid_t uid = request_.uid;
  for (const char* folder : {"tmp", "home"}) {
    if (Status made = make_owned_directory(root_ / folder, uid, 0700); !made) return made;
  }
  for (const char* folder : {"etc", "workspace", "git"}) {
    if (Status made = make_owned_directory(root_ / folder, 0, 0755); !made) return made;
  }
  if (Status given = give_tree_to(request_.workspace, uid); !given) return given;
  if (Status bound = mount_or_error(request_.workspace.c_str(), root_ / "workspace", nullptr, MS_BIND); !bound) {
    return bound;
  }
  mounts_.push_back(root_ / "workspace");
  int index = 0;
  for (const fs::path& folder : borrowed_object_folders(request_.workspace)) {
    fs::path target = root_ / "git" / std::to_string(index++);
    if (Status made = make_owned_directory(target, 0, 0755); !made) return made;
    if (Status bound = mount_or_error(folder.c_str(), target, nullptr, MS_BIND); !bound) return bound;
    mounts_.push_back(target);
    object_binds_.emplace_back(target, folder);
  }
  return {};
}

Status JobSandbox::prepare_files() {
  std::vector<std::pair<std::string, std::string>> files = {{"passwd", passwd_text(request_.uid, gid_)},
                                                            {"group", group_text(gid_)}};
  // slirp4netns answers DNS on 10.0.2.3; the host's resolver (often 127.0.0.53) is not there.
  if (full_ && !request_.network_none && !request_.host_network) files.emplace_back("resolv.conf", "nameserver 10.0.2.3\n");
  for (const auto& [name, text] : files) {
    if (Status written = write_file_atomically(root_ / "etc" / name, text); !written) return written;
    ::chmod((root_ / "etc" / name).c_str(), 0644);
  }
  return {};
}

Status JobSandbox::start_network() {
  if (request_.network_pid != 0) {
    netns_pid_ = request_.network_pid;  // a pod's holder container owns the namespace
  } else {
    // Without root a namespace could not be entered; without a way out and without services,
    // each step's own namespace (bwrap --unshare-net) isolates as well and costs nothing.
    if (!full_ || request_.host_network || (request_.network_none && !request_.shared_network)) return {};
    if (Status held = start_holder(); !held) return held;
  }
  if (request_.network_none) return {};
  return attach_outbound();
}

Status JobSandbox::start_holder() {
  std::vector<std::string> holder = {bwrap_.string(), "--die-with-parent", "--unshare-net", "--unshare-pid",
                                     "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL"};
  for (std::string& word : toolchain_arguments()) holder.push_back(std::move(word));
  holder.insert(holder.end(), {"--", "/usr/bin/sleep", "infinity"});
  auto started = ChildProcess::spawn({holder, {"PATH=" + std::string(kStepPath)}, "/"});
  if (!started) return make_error(fmt::format("cannot start the job's network holder: {}", started.error().message));
  holder_ = std::make_unique<ChildProcess>(std::move(*started));
  // Ready once the namespace's command runs: bubblewrap configures the new namespace's loopback
  // in its init before it starts the command, and slirp4netns configuring the same namespace
  // meanwhile makes that fail ("loopback: Failed RTM_NEWADDR"), under load about once in forty.
  auto deadline = std::chrono::steady_clock::now() + kNetworkReadyTimeout;
  while ((netns_pid_ = first_child(holder_->pid())) == 0 || !runs_program(first_child(netns_pid_), "sleep")) {
    if (holder_->has_exited() || std::chrono::steady_clock::now() > deadline) {
      std::string said = first_line_of(holder_->stderr_fd());
      return make_error(fmt::format("the job's network namespace could not be created (bubblewrap --unshare-net {})",
                                    said.empty() ? "failed" : "said: " + said));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return {};
}

Status JobSandbox::attach_outbound() {
  fs::path slirp = find_program("slirp4netns");
  if (slirp.empty()) {
    return make_error(
        "network: outbound needs slirp4netns, which is not installed: install the slirp4netns package, or set "
        "`network: none` in the test section");
  }
  // Through `unshare --mount` (all mounts made private, recursively): slirp4netns's own
  // --enable-sandbox makes only "/" private before it pivots and detaches the old root, and the
  // detach would then propagate to the host's shared mounts — the Docker Engine's
  // /var/lib/docker is one, so every container being started at that moment lost its root file
  // system ("exec: stat /service: no such file or directory").
  fs::path unshare = find_program("unshare");
  if (unshare.empty()) return make_error("network: outbound needs unshare (util-linux), which is not installed");
  // --exit-fd=0 on a lifeline: slirp4netns ends with this process, even after a kill -9 (the
  // namespace it serves may be a pod's, which outlives us until the next start removes it).
  auto attached = ChildProcess::spawn({{unshare.string(), "--mount", "--propagation", "private", "--", slirp.string(),
                                        "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                                        "--enable-seccomp", "--exit-fd=0", std::to_string(netns_pid_), "tap0"},
                                       {"PATH=" + std::string(kStepPath)},
                                       "/",
                                       true});
  if (!attached) return make_error(fmt::format("cannot start slirp4netns: {}", attached.error().message));
  slirp_ = std::make_unique<ChildProcess>(std::move(*attached));
  auto deadline = std::chrono::steady_clock::now() + kNetworkReadyTimeout;
  while (!has_default_route(netns_pid_)) {
    if (slirp_->has_exited() || std::chrono::steady_clock::now() > deadline) {
      return make_error("slirp4netns could not give the job's network a way out (no default route after 5 s)");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return {};
}

std::vector<std::string> JobSandbox::wrap(const std::vector<std::string>& command) const {
  std::vector<std::string> argv;
  if (full_) {
    if (!cgroup_->join_paths().empty()) {
      // The process joins the job's groups itself ("0" moves the writer) before anything runs,
      // so nothing the step forks can start outside them.
      std::string script;
      for (const fs::path& path : cgroup_->join_paths()) script += fmt::format("echo 0 > '{}' && ", path.string());
      argv = {"/bin/sh", "-c", script + "exec \"$@\"", "sh"};
    }
    argv.push_back(nsenter_.string());
    if (netns_pid_ != 0) argv.push_back(fmt::format("--net=/proc/{}/ns/net", netns_pid_));
    argv.insert(argv.end(), {"-S", std::to_string(request_.uid), "-G", std::to_string(gid_), "--"});
  }
  if (std::vector<std::string> limits = cgroup_->rlimit_arguments(); !limits.empty()) {
    argv.push_back(prlimit_.string());
    argv.insert(argv.end(), limits.begin(), limits.end());
    argv.push_back("--");
  }
  for (std::string& word : bubblewrap_arguments()) argv.push_back(std::move(word));
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::vector<std::string> JobSandbox::bubblewrap_arguments() const {
  std::vector<std::string> argv = {bwrap_.string(), "--die-with-parent", "--unshare-user", "--disable-userns",
                                   "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                                   "--cap-drop", "ALL"};
  // Full mode: the step joined the holder's namespace, or has its own when nothing is shared.
  // Without root, `network: none` is a namespace per step and outbound is the host's network.
  if (!request_.host_network && (full_ ? netns_pid_ == 0 : request_.network_none)) argv.push_back("--unshare-net");
  for (std::string& word : file_system_arguments()) argv.push_back(std::move(word));
  return argv;
}

std::vector<std::string> JobSandbox::file_system_arguments() const {
  std::vector<std::string> argv = toolchain_arguments();
  for (std::string& word : etc_arguments()) argv.push_back(std::move(word));
  for (std::string& word : hidden_path_arguments(request_.hidden_paths)) argv.push_back(std::move(word));
  const fs::path etc = root_ / "etc";
  argv.insert(argv.end(), {"--ro-bind", (etc / "passwd").string(), "/etc/passwd", "--ro-bind",
                           (etc / "group").string(), "/etc/group"});
  if (fs::exists(etc / "resolv.conf")) argv.insert(argv.end(), {"--ro-bind", (etc / "resolv.conf").string(), "/etc/resolv.conf"});
  argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev",
                           "--bind", (root_ / "tmp").string(), "/tmp",
                           "--bind", (root_ / "tmp").string(), "/var/tmp",
                           "--bind", (root_ / "home").string(), home().string()});
  for (const auto& [source, folder] : object_binds_) argv.insert(argv.end(), {"--ro-bind", source.string(), folder.string()});
  if (!docker_socket_.empty()) argv.insert(argv.end(), {"--bind", docker_socket_.string(), docker_socket_.string()});
  const std::string workspace = request_.workspace.string();
  argv.insert(argv.end(), {"--bind", full_ ? (root_ / "workspace").string() : workspace, workspace, "--chdir", workspace});
  return argv;
}

std::string JobSandbox::limit_reached() const {
  if (std::string reached = cgroup_->limit_reached(); !reached.empty()) return reached;
  struct statvfs usage {};
  if (full_ && request_.limits.tmp_bytes > 0 && ::statvfs(root_.c_str(), &usage) == 0 && usage.f_bavail == 0) {
    return fmt::format("the private /tmp and $HOME are full (job limit {})", format_byte_size(request_.limits.tmp_bytes));
  }
  return "";
}

JobSandbox::~JobSandbox() {
  stop_child(slirp_);
  if (holder_) {
    // The namespace's own process first: bubblewrap then reaps it and exits by itself. Killed
    // the other way round, it would be an orphan handed to this process (a subreaper) and stay
    // a zombie.
    if (netns_pid_ > 0) ::kill(netns_pid_, SIGKILL);
    holder_->reap();
    holder_.reset();
  }
  cgroup_.reset();
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  std::error_code error;
  if (full_) {
    ::rmdir(root_.c_str());
    // The workspace goes back to the server's user: the publish stage's git and image build
    // work in it next, and git refuses a repository another user owns.
    if (!mounts_.empty()) {
      if (Status given = give_tree_to(request_.workspace, ::getuid()); !given) spdlog::warn("{}", given.error().message);
    }
  } else if (!root_.empty()) {
    fs::remove_all(root_, error);
  }
}

std::string describe_job_isolation(std::string_view executor, const JobLimits& limits) {
  if (executor == "host") return "steps: host executor, as the server's user (no isolation: trusted code only)";
  std::string who = JobSandbox::full_mode()
                        ? "sandbox as unprivileged uids (one per worker), a network namespace per job"
                        : "sandbox as the server's own user (not root: no uid change, a network namespace per step)";
  auto or_none = [](int64_t value, const std::string& text) { return value > 0 ? text : std::string("no limit"); };
  return fmt::format("steps: {}; limits by {}: memory {}, processes {}, /tmp {}, CPUs {}", who,
                     describe_limit_mechanism(), or_none(limits.memory_bytes, format_byte_size(limits.memory_bytes)),
                     or_none(limits.pids, std::to_string(limits.pids)),
                     or_none(limits.tmp_bytes, format_byte_size(limits.tmp_bytes)),
                     limits.cpus > 0 ? fmt::format("{:g}", limits.cpus) : std::string("no limit"));
}

void clean_stale_job_sandboxes() {
  if (!JobSandbox::full_mode()) return;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kJobsRoot, error)) {
    std::string name = entry.path().filename().string();
    pid_t owner = static_cast<pid_t>(std::atoi(name.c_str()));
    if (owner <= 0 || owner == ::getpid() || fs::exists(fmt::format("/proc/{}", owner))) continue;
    // Mounts inside the folder first (workspace, git objects), then the folder's own tmpfs.
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::vector<std::string> inside;
    for (std::string line; std::getline(mountinfo, line);) {
      std::istringstream fields(line);
      std::string id, parent, device, root, point;
      fields >> id >> parent >> device >> root >> point;
      const std::string folder = entry.path().string();
      if (point == folder || point.rfind(folder + "/", 0) == 0) inside.push_back(point);
    }
    std::sort(inside.begin(), inside.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const std::string& point : inside) ::umount2(point.c_str(), MNT_DETACH);
    ::rmdir(entry.path().c_str());
    remove_job_cgroup(name);
  }
}

}  // namespace slipway
