// DockerDaemon: a Docker Engine at /var/run/docker.sock for integration tests. One that already
// answers is used and left alone; otherwise `dockerd --bridge=none --iptables=false` is started
// (log: /tmp/slipway-dockerd.log) and stopped again once the last test process using it is done.
//
// Several ctest processes may want a daemon at once, so who starts and who stops it is settled
// with two flock(2) locks, which the kernel drops when a process dies — a crashed or killed test
// can neither leave a lock held nor keep a count too high, as a refcount file would:
//  - /tmp/slipway-dockerd.lock, held exclusively around "check, start if needed, join" and
//    around "leave, stop if last": one process at a time decides;
//  - /tmp/slipway-dockerd.users, held *shared* by every user for as long as it uses the daemon.
// Leaving, a user drops its shared lock and tries to take the users lock exclusively without
// waiting: that works only when no one else holds it, i.e. it was the last user, and then it
// stops the daemon — whoever started it. It stops only a daemon a fixture started, whose PID the
// starter writes to /tmp/slipway-dockerd.pid; a daemon started any other way is never touched.
// dockerd runs in its own session, so it outlives its starter when others still use it, and any
// last user can stop it by that PID. dockerd keeps its default pidfile (/var/run/docker.pid),
// which makes a second dockerd refuse to start rather than share the first one's data.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"

namespace slipway::testing {

class DockerDaemon {
 public:
  static constexpr const char* kSocket = "/var/run/docker.sock";
  static constexpr const char* kMutexFile = "/tmp/slipway-dockerd.lock";
  static constexpr const char* kUsersFile = "/tmp/slipway-dockerd.users";
  static constexpr const char* kPidFile = "/tmp/slipway-dockerd.pid";
  static constexpr const char* kLogFile = "/tmp/slipway-dockerd.log";

  DockerDaemon() {
    int mutex = lock_file(kMutexFile, LOCK_EX);
    if (!answers()) start();
    if (error_.empty()) users_ = lock_file(kUsersFile, LOCK_SH);
    close(mutex);
  }

  ~DockerDaemon() {
    if (users_ < 0) return;
    int mutex = lock_file(kMutexFile, LOCK_EX);
    close(users_);  // drops this user's shared lock
    int users = open(kUsersFile, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (users >= 0 && flock(users, LOCK_EX | LOCK_NB) == 0) stop_fixture_daemon();
    reap_child();
    if (users >= 0) close(users);
    close(mutex);
  }

  DockerDaemon(const DockerDaemon&) = delete;
  DockerDaemon& operator=(const DockerDaemon&) = delete;

  // "" when the daemon answers; else what went wrong, with the end of dockerd's log.
  const std::string& error() const { return error_; }
  bool started_here() const { return started_here_; }
  // How long this process waited for a daemon it started to answer (0 when one was running).
  double start_seconds() const { return start_seconds_; }
  std::string socket() const { return kSocket; }

  // GET /_ping answers "OK".
  static bool answers() {
    HttpClientRequest ping;
    ping.url = "http://localhost/_ping";
    ping.unix_socket = kSocket;
    ping.connect_timeout = Milliseconds(1'000);
    ping.timeout = Milliseconds(3'000);
    HttpClient client;
    auto answer = client.send(ping);
    return answer && answer->status == 200 && answer->body == "OK";
  }

 private:
  static int lock_file(const char* path, int operation) {
    // O_CLOEXEC matters: a lock fd inherited by dockerd would hold the lock for its whole life.
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) {
      while (flock(fd, operation) != 0 && errno == EINTR) {
      }
    }
    return fd;
  }

  void start() {
    auto began = std::chrono::steady_clock::now();
    int log = open(kLogFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  // dup2 clears CLOEXEC
    child_ = fork();
    if (child_ == 0) {
      setsid();  // its own session: a signal to this test's process group does not reach it
      int none = open("/dev/null", O_RDONLY);
      dup2(none, 0);
      dup2(log, 1);
      dup2(log, 2);
      execlp("dockerd", "dockerd", "--bridge=none", "--iptables=false", nullptr);
      _exit(127);
    }
    close(log);
    if (child_ < 0) {
      error_ = "cannot start dockerd: fork failed: " + errno_text(errno);
      return;
    }
    started_here_ = true;
    std::ofstream(kPidFile) << child_ << "\n";
    while (!answers()) {
      if (child_ > 0 && waitpid(child_, nullptr, WNOHANG) == child_) {
        child_ = 0;
        unlink(kPidFile);
        error_ = "dockerd exited at once; " + log_tail();
        return;
      }
      if (std::chrono::steady_clock::now() - began > std::chrono::seconds(30)) {
        error_ = "dockerd did not answer on " + std::string(kSocket) + " within 30 s; " + log_tail();
        stop_fixture_daemon();
        reap_child();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    start_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  }

  // The starter is dockerd's parent until it exits: it collects the exit status of a dockerd
  // that has stopped (by its hand or another user's), so no zombie is left while it lives.
  void reap_child() {
    if (child_ > 0 && waitpid(child_, nullptr, WNOHANG) == child_) child_ = 0;
  }

  static std::string log_tail() {
    auto log = read_file(kLogFile);
    if (!log) return "no log at " + std::string(kLogFile);
    std::string text = log->size() > 3000 ? log->substr(log->size() - 3000) : *log;
    return std::string(kLogFile) + " ends with:\n" + text;
  }

  // The dockerd a fixture started, if it is still running.
  static pid_t fixture_daemon_pid() {
    std::ifstream pidfile(kPidFile);
    pid_t pid = 0;
    if (!(pidfile >> pid) || pid <= 1) return 0;
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    return (comm >> name) && name == "dockerd" && !is_zombie(pid) ? pid : 0;
  }

  static bool is_zombie(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t paren = text.rfind(')');
    return text.empty() || (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z');
  }

  // SIGTERM, then up to 30 s for a clean shutdown (it stops its containerd too), then SIGKILL.
  static void stop_fixture_daemon() {
    pid_t pid = fixture_daemon_pid();
    if (pid == 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 600 && !is_zombie(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!is_zombie(pid)) kill(pid, SIGKILL);
    unlink(kPidFile);
  }

  int users_ = -1;
  pid_t child_ = 0;
  bool started_here_ = false;
  double start_seconds_ = 0;
  std::string error_;
};

}  // namespace slipway::testing
