#include "ci/job_sandbox.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/step_environment.h"
#include "base/strings.h"
#include "ci/job_network.h"
#include "ci/mount_table.h"
#include "ci/workspace_template.h"
#include "ci/sandbox_view.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// Where full-mode jobs keep their folders: outside the data directory (which stays 0700, so the
// job's uid could not reach a bind source inside it), on the host's /run, which is a tmpfs.
const fs::path kJobsRoot = "/run/slipway/jobs";
const fs::path kDockerSocket = "/var/run/docker.sock";

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

Status give_top_folder_back(const fs::path& workspace) {
  if (::lchown(workspace.c_str(), ::getuid(), ::getgid()) == 0) return {};
  return make_error(fmt::format("{}: {}", workspace.string(), errno_text(errno)));
}

// Over a template, what the server wrote on top of it (.git, the summary folder, a pull request's
// merge) is exactly the overlay's upper layer: each of its entries changes owner through the
// workspace (never in the layer itself, whose changes the mounted overlay would not see). The
// template's thousands of files are the uid's already.
Status give_upper_layer_to(const fs::path& workspace, uid_t uid) {
  const fs::path upper = overlay_upper_layer(workspace);
  if (upper.empty()) return make_error(fmt::format("{}: no overlay's upper layer found", workspace.string()));
  if (Status given = give_path_to(workspace, uid); !given) return given;
  std::error_code error;
  for (fs::recursive_directory_iterator it(upper, error), end; !error && it != end; it.increment(error)) {
    const fs::path merged = workspace / it->path().lexically_relative(upper);
    std::error_code gone;
    if (!fs::exists(fs::symlink_status(merged, gone))) continue;  // a whiteout: deleted on top
    if (Status given = give_path_to(merged, uid); !given) return given;
  }
  if (error) return make_error(fmt::format("cannot walk {}: {}", upper.string(), error.message()));
  return {};
}

bool on_overlay(const fs::path& path) {
  struct statfs status {};
  return ::statfs(path.c_str(), &status) == 0 && status.f_type == OVERLAYFS_SUPER_MAGIC;
}

void give_workspace_back(const fs::path& workspace) {
  Status given = on_overlay(workspace) ? give_top_folder_back(workspace) : give_tree_to(workspace, ::getuid());
  if (!given) spdlog::warn("cannot give the workspace back: {}", given.error().message);
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

JobSandbox::JobSandbox(JobSandboxRequest request)
    : prlimit_(find_program("prlimit")),
      request_(std::move(request)),
      full_(full_mode()) {}

Result<std::unique_ptr<JobSandbox>> JobSandbox::open(const JobSandboxRequest& request) {
  std::unique_ptr<JobSandbox> sandbox(new JobSandbox(request));
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
  sandbox->spec_ = sandbox->make_spec();
  return sandbox;
}

Status JobSandbox::prepare_root() {
  if (!full_) {
    root_ = request_.workspace.parent_path() / fmt::format("sandbox-{}", ++job_counter);
    for (const char* folder : {"", "tmp", "home", "etc", "root"}) {
      if (Status made = make_directories(root_ / folder); !made) return made;
    }
    return {};
  }
  if (Status made = make_directories(kJobsRoot); !made) return made;
  // The job's uid walks these folders when the sandbox binds from them; the server's umask (077)
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
  for (const char* folder : {"etc", "workspace", "git", "root"}) {
    if (Status made = make_owned_directory(root_ / folder, 0, 0755); !made) return made;
  }
  // The checkout was written by the server; the job's uid must own it to change tracked files.
  // A workspace over a template (an overlay) has the uid's files already (the worker's template
  // belongs to its job uid, ci/workspace_template.h): only what the server wrote on top changes
  // hands, without a walk over every file.
  Status given = on_overlay(request_.workspace) ? give_upper_layer_to(request_.workspace, uid)
                                                : give_tree_to(request_.workspace, uid);
  if (!given) return given;
  ::chmod(request_.workspace.c_str(), 0700);
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
  const bool outbound = !request_.network_none;
  if (request_.network_pid != 0) {
    // A pod's holder container owns the namespace.
    auto joined = JobNetwork::join(request_.network_pid, outbound);
    if (!joined) return joined.error();
    network_ = std::move(*joined);
    return {};
  }
  if (!takes_pooled_network(request_, full_)) return {};
  auto taken = JobNetworkPool::instance().take(outbound);
  if (!taken) return taken.error();
  network_ = std::move(*taken);
  return {};
}

// Without root a namespace could not be entered; without a way out and without services, each
// step's own namespace (SandboxSpec::new_network) isolates as well and costs nothing; a pod's
// holder owns the namespace of a job with `image:` services.
bool JobSandbox::takes_pooled_network(const JobSandboxRequest& request, bool full) {
  return full && request.network_pid == 0 && !request.host_network && !(request.network_none && !request.shared_network);
}

void JobSandbox::prepare_network(const JobSandboxRequest& request) {
  if (takes_pooled_network(request, full_mode())) JobNetworkPool::instance().prepare(!request.network_none);
}

std::filesystem::path JobSandbox::network_namespace() const { return network_ ? network_->path() : std::filesystem::path(); }

SandboxLaunch JobSandbox::launch(const std::vector<std::string>& command) const {
  SandboxLaunch launch;
  if (full_) {
    // The process joins the job's groups itself before anything runs, so nothing the step forks
    // can start outside them; then the namespace, then the job's uid (base/child_process.h).
    launch.enter.cgroups = cgroup_->join_paths();
    if (network_) launch.enter.network_namespace = network_->path();
    launch.enter.drop_ids = true;
    launch.enter.uid = request_.uid;
    launch.enter.gid = gid_;
  }
  launch.enter.sandbox = spec_;
  std::vector<std::string>& argv = launch.argv;
  if (std::vector<std::string> limits = cgroup_->rlimit_arguments(); !limits.empty()) {
    argv.push_back(prlimit_.string());
    argv.insert(argv.end(), limits.begin(), limits.end());
    argv.push_back("--");
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return launch;
}

// Once per job: the view scans /etc and resolves every source, the same for each of its steps.
std::shared_ptr<const SandboxSpec> JobSandbox::make_spec() const {
  auto spec = std::make_shared<SandboxSpec>();
  spec->staging = root_ / "root";
  spec->mounts = mounts();
  resolve_sources(spec->mounts);
  spec->workdir = request_.workspace;
  // Full mode: the step joined the job's namespace, or has its own when nothing is shared.
  // Without root, `network: none` is a namespace per step and outbound is the host's network.
  spec->new_network = !request_.host_network && (full_ ? network_ == nullptr : request_.network_none);
  return spec;
}

std::vector<SandboxMount> JobSandbox::mounts() const {
  using Kind = SandboxMount::Kind;
  std::vector<SandboxMount> mounts = toolchain_mounts();
  auto add = [&](std::vector<SandboxMount> more) {
    for (SandboxMount& mount : more) mounts.push_back(std::move(mount));
  };
  add(etc_mounts());
  add(hidden_path_mounts(request_.hidden_paths));
  const fs::path etc = root_ / "etc";
  mounts.push_back({Kind::bind_read_only, (etc / "passwd").string(), "/etc/passwd", true});
  mounts.push_back({Kind::bind_read_only, (etc / "group").string(), "/etc/group", true});
  if (fs::exists(etc / "resolv.conf")) {
    mounts.push_back({Kind::bind_read_only, (etc / "resolv.conf").string(), "/etc/resolv.conf", true});
  }
  add(proc_and_dev_mounts());
  mounts.push_back({Kind::bind, (root_ / "tmp").string(), "/tmp"});
  mounts.push_back({Kind::bind, (root_ / "tmp").string(), "/var/tmp"});
  mounts.push_back({Kind::bind, (root_ / "home").string(), home().string()});
  for (const auto& [source, folder] : object_binds_) mounts.push_back({Kind::bind_read_only, source.string(), folder.string()});
  if (!docker_socket_.empty()) mounts.push_back({Kind::bind, docker_socket_.string(), docker_socket_.string(), true});
  const std::string workspace = request_.workspace.string();
  mounts.push_back({Kind::bind, full_ ? (root_ / "workspace").string() : workspace, workspace});
  return mounts;
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
  // The job's processes first: its namespace goes back to the pool only when none can remain.
  const bool emptied = cgroup_ ? cgroup_->remove() : true;
  if (emptied) JobNetworkPool::instance().give_back(std::move(network_));
  network_.reset();
  cgroup_.reset();
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  std::error_code error;
  if (full_) {
    ::rmdir(root_.c_str());
    // The workspace goes back to the server's user: git refuses a work tree another user owns
    // (the publish stage runs git there next, on a .git it writes afresh), and a kept workspace
    // is for the server's user to look into. Over a template (an overlay) only the top folder
    // does: giving a template's file another owner copies all of it up, and the server reads and
    // removes the rest as root anyway.
    if (!mounts_.empty()) give_workspace_back(request_.workspace);
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
    std::vector<std::string> inside;
    const std::string folder = entry.path().string();
    for (const MountEntry& mount : read_mount_table()) {
      const std::string& point = mount.mount_point;
      if (point == folder || point.rfind(folder + "/", 0) == 0) inside.push_back(point);
    }
    std::sort(inside.begin(), inside.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const std::string& point : inside) ::umount2(point.c_str(), MNT_DETACH);
    ::rmdir(entry.path().c_str());
    remove_job_cgroup(name);
  }
}

}  // namespace slipway
