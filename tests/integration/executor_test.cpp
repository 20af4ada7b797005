// The host and sandbox executors, run for real: processes are started, timed out, cancelled and
// checked for in /proc. Every long-lived test process carries a token unique to this test run in
// its command line (`sleep 1000.<token>`), so that the checks never confuse it with another
// test's and TearDown can kill what a failing test left behind.
#include "ci/executor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "base/files.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr Milliseconds kGrace(300);
// The sleepers sleep 1000 s, beyond ctest's timeout: a step that ends at all was stopped, not
// waited for, and one that is waited for fails the test as a hang. How fast a stop is belongs to
// bench/, never to an assertion here.

class CollectingSink : public OutputSink {
 public:
  void on_output(OutputStream stream, std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    (stream == OutputStream::out ? out_ : err_).append(bytes);
  }
  std::string out() {
    std::lock_guard<std::mutex> lock(mutex_);
    return out_;
  }
  std::string err() {
    std::lock_guard<std::mutex> lock(mutex_);
    return err_;
  }

 private:
  std::mutex mutex_;
  std::string out_;
  std::string err_;
};

// Whole file, or what could be read of it: /proc files vanish with their process mid-read.
std::string read_whole(const fs::path& path) {
  std::string content;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    content.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return content;
}

// Pids of live (not zombie) processes whose command line contains `text`.
std::vector<pid_t> processes_matching(const std::string& text) {
  std::vector<pid_t> pids;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = read_whole(it->path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) == std::string::npos) continue;
    std::string stat = read_whole(it->path() / "stat");
    size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') continue;
    pids.push_back(std::stoi(name));
  }
  return pids;
}

// Zombie children of this process: orphans re-parented to us (the subreaper) and never reaped.
int zombie_children() {
  int zombies = 0;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    std::string stat = read_whole(it->path() / "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = '?';
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' && ppid == ::getpid()) {
      ++zombies;
      std::fprintf(stderr, "zombie: %s\n", stat.c_str());
    }
  }
  return zombies;
}

// Waits up to `limit` for `condition`; true if it held.
template <typename Condition>
bool eventually(Condition condition, Milliseconds limit = Milliseconds(3000)) {
  auto until = steady_clock::now() + limit;
  while (steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(Milliseconds(10));
  }
  return condition();
}

class ExecutorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int counter = 0;
    token_ = std::to_string(::getpid()) + std::to_string(++counter);
    ExecutorOptions options;
    options.kill_grace = kGrace;
    if (GetParam() == "host") {
      executor_ = make_host_executor(options);
    } else {
      Result<std::unique_ptr<Executor>> sandbox = make_sandbox_executor(options);
      if (!sandbox) GTEST_SKIP() << sandbox.error().message;
      executor_ = std::move(*sandbox);
    }
    workspace_ = fs::canonical(directory_.path());
  }

  // Whatever a failed test left running is killed here, so that one failure does not leave
  // sleeping processes behind or spill into the next test.
  void TearDown() override {
    for (pid_t pid : processes_matching(marker())) ::kill(pid, SIGKILL);
  }

  // Unique to this test: `sleep 1000.<token><n>` never collides with another test's process.
  std::string marker() const { return "1000." + token_; }
  std::string sleeper(int n) const { return "sleep " + marker() + std::to_string(n); }

  StepCommand command(std::string script) const {
    StepCommand command;
    command.script = std::move(script);
    command.workspace = workspace_;
    return command;
  }

  // A background service belongs to a job: the first one opens the test's job.
  StepCommand service_step(std::string script) {
    if (!job_) {
      Result<std::unique_ptr<JobScope>> opened = executor_->open_job({workspace_, false, true});
      EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
      if (opened.ok()) job_ = std::move(*opened);
    }
    StepCommand step = command(std::move(script));
    step.job = job_.get();
    return step;
  }

  StepOutcome run(const StepCommand& command, const std::atomic<bool>* cancel = nullptr) {
    Result<StepOutcome> outcome = executor_->run(command, sink_, cancel);
    EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
    return outcome.ok() ? *outcome : StepOutcome{};
  }

  bool nothing_left() const { return processes_matching(marker()).empty(); }

  std::unique_ptr<Executor> executor_;
  TemporaryDirectory directory_{"slipway-executor-test"};
  std::unique_ptr<JobScope> job_;
  fs::path workspace_;
  CollectingSink sink_;
  std::string token_;
};

TEST_P(ExecutorTest, DeliversStdoutAndStderrOnTheirOwnStreams) {
  StepOutcome outcome = run(command("echo to-out; echo to-err >&2; printf 'no newline'"));
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_EQ(sink_.out(), "to-out\nno newline");
  EXPECT_EQ(sink_.err(), "to-err\n");
}

TEST_P(ExecutorTest, ReportsExitCodes) {
  EXPECT_EQ(run(command("exit 3")).exit_code, 3);
  EXPECT_EQ(run(command("true")).exit_code, 0);
  EXPECT_EQ(run(command("false; echo not reached")).exit_code, 1) << "bash -e";
  EXPECT_EQ(run(command("false | true")).exit_code, 1) << "pipefail";
  EXPECT_EQ(sink_.out(), "");
  StepOutcome killed = run(command("kill -KILL $$"));
  EXPECT_FALSE(killed.succeeded());
  if (GetParam() == "host") {
    EXPECT_EQ(killed.exit_code, -1);
    EXPECT_EQ(killed.signal, SIGKILL);
  } else {
    EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << "the sandbox's init reports a signal as 128+n";
  }
}

TEST_P(ExecutorTest, PassesTheStepEnvironmentAndNotTheServers) {
  ::setenv("SLIPWAY_TEST_CANARY", "server-secret", 1);
  StepCommand step = command(
      "echo \"$GREETING|${SLIPWAY_TEST_CANARY:-absent}|$CI|$SLIPWAY|$LANG|$TERM|$PATH\"; env");
  step.env = {{"GREETING", "hello world"}, {"LANG", "en_US.UTF-8"}};
  StepOutcome outcome = run(step);
  EXPECT_TRUE(outcome.succeeded());
  std::string first_line = sink_.out().substr(0, sink_.out().find('\n'));
  EXPECT_EQ(first_line,
            "hello world|absent|true|true|en_US.UTF-8|dumb|"
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_EQ(sink_.out().find("server-secret"), std::string::npos);
  ::unsetenv("SLIPWAY_TEST_CANARY");
}

TEST_P(ExecutorTest, RejectsAnEnvironmentNameThatCannotBePassed) {
  StepCommand step = command("true");
  step.env = {{"A=B", "x"}};
  Result<StepOutcome> outcome = executor_->run(step, sink_);
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("A=B"), std::string::npos);
}

TEST_P(ExecutorTest, RunsInTheWorkspace) {
  StepOutcome outcome = run(command("pwd; echo made > made.txt"));
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_EQ(sink_.out(), workspace_.string() + "\n");
  EXPECT_EQ(read_whole(workspace_ / "made.txt"), "made\n");
}

TEST_P(ExecutorTest, FailsToStartInAMissingWorkspace) {
  StepCommand step = command("true");
  step.workspace = workspace_ / "missing";
  Result<StepOutcome> outcome = executor_->run(step, sink_);
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("missing"), std::string::npos);
}

TEST_P(ExecutorTest, TimesOutAStepThatNeverEnds) {
  StepCommand step = command(sleeper(1));
  step.timeout = Milliseconds(300);
  StepOutcome outcome = run(step);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_FALSE(outcome.cancelled);
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, KillsAStepThatIgnoresSigtermAfterTheGrace) {
  // It notes each SIGTERM and carries on: only the SIGKILL after the grace can end it, and the
  // note shows the SIGTERM (the grace's start) came first.
  StepCommand step = command("trap 'echo got TERM' TERM; while true; do " + sleeper(2) + " & wait; done");
  step.timeout = Milliseconds(200);
  StepOutcome outcome = run(step);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_EQ(sink_.out().substr(0, 9), "got TERM\n") << "SIGTERM first, then the grace, then SIGKILL";
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, GivesTheGraceToAStepThatHandlesSigterm) {
  StepCommand step = command("trap 'echo cleaning up; exit 7' TERM; " + sleeper(3) + " & wait");
  step.timeout = Milliseconds(300);
  StepOutcome outcome = run(step);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_EQ(sink_.out(), "cleaning up\n");
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, StopsAStepWhenCancelled) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(Milliseconds(200));
    cancel = true;
  });
  StepOutcome outcome = run(command(sleeper(4)), &cancel);
  canceller.join();
  EXPECT_TRUE(outcome.cancelled);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, DoesNotWaitForADaemonHoldingStdout) {
  StepOutcome outcome = run(command("setsid " + sleeper(5) + " & echo started"));
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_EQ(sink_.out(), "started\n");
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, KillsADoubleForkedDaemon) {
  StepOutcome outcome =
      run(command("(setsid sh -c '" + sleeper(6) + " &' &); sleep 0.1; echo started"));
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_EQ(sink_.out(), "started\n");
  EXPECT_TRUE(nothing_left());
  EXPECT_EQ(zombie_children(), 0) << "re-parented orphans must be reaped";
}

TEST_P(ExecutorTest, KillsADaemonThatDoubleForkedJustBeforeTheStepEnded) {
  // No pause: the daemon may still be starting when the main process exits.
  StepOutcome outcome = run(command("(setsid sh -c '" + sleeper(7) + " &' &)"));
  EXPECT_TRUE(outcome.succeeded());
  // The daemon can only appear late if it escaped: none may show at any look for a while.
  for (auto until = steady_clock::now() + Milliseconds(200); steady_clock::now() < until;) {
    ASSERT_TRUE(nothing_left());
    std::this_thread::sleep_for(Milliseconds(20));
  }
}

TEST_P(ExecutorTest, PassesATenMegabyteLineIntact) {
  constexpr size_t kBytes = 10 * 1024 * 1024;
  StepOutcome outcome =
      run(command("head -c " + std::to_string(kBytes) + " /dev/zero | tr '\\0' x"));
  EXPECT_TRUE(outcome.succeeded());
  std::string out = sink_.out();
  EXPECT_EQ(out.size(), kBytes);
  EXPECT_EQ(static_cast<size_t>(std::count(out.begin(), out.end(), 'x')), kBytes);
}

TEST_P(ExecutorTest, StopsABackgroundServiceAndItsTree) {
  Result<std::unique_ptr<BackgroundProcess>> service =
      executor_->start(service_step(sleeper(8) + " & echo ready; " + sleeper(9)), sink_);
  ASSERT_TRUE(service.ok()) << service.error().message;
  ASSERT_TRUE(eventually([&] { return sink_.out() == "ready\n"; }));
  EXPECT_TRUE((*service)->running());
  EXPECT_TRUE(eventually([&] { return processes_matching(marker()).size() >= 2; }));
  (*service)->stop(Milliseconds(200));
  EXPECT_FALSE((*service)->running());
  EXPECT_TRUE(nothing_left());
  (*service)->stop(Milliseconds(200));  // a second stop is harmless
}

TEST_P(ExecutorTest, StopsABackgroundServiceWhenDestroyed) {
  {
    Result<std::unique_ptr<BackgroundProcess>> service =
        executor_->start(service_step("echo ready; " + sleeper(10)), sink_);
    ASSERT_TRUE(service.ok()) << service.error().message;
    ASSERT_TRUE(eventually([&] { return sink_.out() == "ready\n"; }));
  }
  EXPECT_TRUE(nothing_left());
}

TEST_P(ExecutorTest, ReportsABackgroundServiceThatExited) {
  Result<std::unique_ptr<BackgroundProcess>> service =
      executor_->start(service_step("echo bye; exit 2"), sink_);
  ASSERT_TRUE(service.ok()) << service.error().message;
  EXPECT_TRUE(eventually([&] { return !(*service)->running(); }));
  (*service)->stop(Milliseconds(100));
  EXPECT_EQ(sink_.out(), "bye\n");
}

INSTANTIATE_TEST_SUITE_P(BothExecutors, ExecutorTest, ::testing::Values("host", "sandbox"),
                         [](const auto& info) { return info.param; });

class HostExecutorTest : public ExecutorTest {};

TEST_P(HostExecutorTest, RunsEachStepInItsOwnSessionAndProcessGroup) {
  StepOutcome outcome =
      run(command("read -r pid comm state ppid pgid sid rest < /proc/$$/stat; "
                  "test \"$pgid\" = $$ && test \"$sid\" = $$ && echo own"));
  EXPECT_TRUE(outcome.succeeded()) << sink_.err();
  EXPECT_EQ(sink_.out(), "own\n");
}

TEST_P(HostExecutorTest, UsesTheHomeFolderBesideTheWorkspace) {
  EXPECT_TRUE(run(command("echo \"$HOME\"")).succeeded());
  EXPECT_EQ(sink_.out(), workspace_.string() + "\n") << "no home/ yet: the workspace";
  fs::create_directory(workspace_ / "home");
  fs::create_directory(workspace_ / "workspace");
  StepCommand step = command("echo \"$HOME\"");
  step.workspace = workspace_ / "workspace";
  EXPECT_TRUE(run(step).succeeded());
  EXPECT_EQ(sink_.out(), workspace_.string() + "\n" + (workspace_ / "home").string() + "\n");
}

INSTANTIATE_TEST_SUITE_P(Host, HostExecutorTest, ::testing::Values("host"),
                         [](const auto& info) { return info.param; });

class SandboxExecutorTest : public ExecutorTest {};

TEST_P(SandboxExecutorTest, KeepsTheHostReadOnlyAndTheWorkspaceWritable) {
  const fs::path outside = "/etc/slipway-sandbox-test-" + token_;
  StepOutcome outcome = run(command("touch " + outside.string()));
  bool created = fs::exists(outside);
  fs::remove(outside);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_FALSE(created);
  EXPECT_TRUE(run(command("echo kept > inside.txt")).succeeded());
  EXPECT_EQ(read_whole(workspace_ / "inside.txt"), "kept\n");
}

// Root outside is root inside, but with no capabilities: remounting the host read-write (which
// CAP_SYS_ADMIN would allow) must fail, and the host must stay untouched.
TEST_P(SandboxExecutorTest, CannotRemountTheHostWritable) {
  const fs::path outside = "/usr/slipway-sandbox-remount-" + token_;
  StepOutcome outcome = run(command("mount -o remount,rw / ; touch " + outside.string()));
  bool created = fs::exists(outside);
  fs::remove(outside);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_FALSE(created) << "a sandboxed step wrote to the host's /usr";
  EXPECT_TRUE(run(command("grep -q 'CapEff:.0000000000000000' /proc/self/status")).succeeded())
      << "the step kept capabilities";
}

TEST_P(SandboxExecutorTest, GivesTheStepAPrivateTmp) {
  const fs::path host_file = "/tmp/slipway-host-" + token_;
  const fs::path step_file = "/tmp/slipway-step-" + token_;
  std::ofstream(host_file) << "host";
  StepOutcome outcome =
      run(command("test ! -e " + host_file.string() + " && echo hi > " + step_file.string() +
                  " && cat " + step_file.string() + " && echo \"$HOME\""));
  bool leaked = fs::exists(step_file);
  fs::remove(host_file);
  fs::remove(step_file);
  EXPECT_TRUE(outcome.succeeded()) << sink_.err();
  EXPECT_EQ(sink_.out(), "hi\n/home/slipway\n");
  EXPECT_FALSE(leaked);
}

TEST_P(SandboxExecutorTest, GivesTheStepItsOwnPidNamespace) {
  StepOutcome outcome = run(command("echo $$; ls /proc | grep -c '^[0-9]'"));
  EXPECT_TRUE(outcome.succeeded()) << sink_.err();
  int own_pid = 0;
  int visible = 0;
  ASSERT_EQ(std::sscanf(sink_.out().c_str(), "%d %d", &own_pid, &visible), 2) << sink_.out();
  EXPECT_LE(own_pid, 3);
  EXPECT_LE(visible, 6) << "the host's processes are visible";
}

// Listens on an ephemeral loopback port of the host's network namespace.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The job's loopback is its own: the host's listener is out of reach with either network mode.
TEST_P(SandboxExecutorTest, NeverReachesTheHostsLoopbackAndCutsTheNetworkWhenAsked) {
  LoopbackListener listener;
  ASSERT_GT(listener.port(), 0);
  std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port());
  EXPECT_NE(run(command(connect)).exit_code, 0) << "a sandboxed step reached the host's loopback";
  StepCommand isolated = command(connect);
  isolated.network_none = true;
  EXPECT_NE(run(isolated).exit_code, 0);
  // /proc/net/dev lists the interfaces of the reader's network namespace (/sys would show the
  // host's: it is the host's sysfs, bound read-only).
  StepCommand interfaces = command("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  interfaces.network_none = true;
  CollectingSink names;
  Result<StepOutcome> listed = executor_->run(interfaces, names);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(names.out(), "lo\n");
}

// A job's network namespace is reused by a later job (the pool of ci/job_network.h), never by
// two jobs at once, and what the first job listened on is gone for the next.
TEST_P(SandboxExecutorTest, ANamespaceIsReusedOnlyAfterItsJobAndCarriesNothingOver) {
  if (::geteuid() != 0) GTEST_SKIP() << "one namespace per job needs root";
  auto open = [&] {
    Result<std::unique_ptr<JobScope>> opened = executor_->open_job({workspace_, false, true});
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
    return opened.ok() ? std::move(*opened) : nullptr;
  };
  auto in_job = [&](JobScope* job, const std::string& script) {
    StepCommand step = command(script);
    step.job = job;
    CollectingSink output;
    Result<StepOutcome> outcome = executor_->run(step, output);
    EXPECT_TRUE(outcome.ok());
    return std::make_pair(outcome.ok() ? outcome->exit_code : -1, output.out());
  };
  const std::string namespace_of = "readlink /proc/self/ns/net";
  const std::string reach = "exec 3<>/dev/tcp/127.0.0.1/15433";
  std::unique_ptr<JobScope> first = open();
  ASSERT_TRUE(first);
  StepCommand listener = command("exec python3 -m http.server 15433 --bind 127.0.0.1");
  listener.job = first.get();
  CollectingSink listener_output;
  auto service = executor_->start(listener, listener_output);
  ASSERT_TRUE(service.ok()) << service.error().message;
  ASSERT_TRUE(eventually([&] { return in_job(first.get(), reach).first == 0; }, Milliseconds(10'000)));
  std::string first_namespace = in_job(first.get(), namespace_of).second;

  std::unique_ptr<JobScope> beside = open();  // while the first runs: a namespace of its own
  ASSERT_TRUE(beside);
  EXPECT_NE(in_job(beside.get(), namespace_of).second, first_namespace);
  EXPECT_NE(in_job(beside.get(), reach).first, 0);

  service->reset();
  first.reset();
  beside.reset();
  std::unique_ptr<JobScope> next = open();
  ASSERT_TRUE(next);
  std::string next_namespace = in_job(next.get(), namespace_of).second;
  EXPECT_EQ(next_namespace, first_namespace) << "the pool handed out a new namespace, not the idle one";
  EXPECT_NE(in_job(next.get(), reach).first, 0) << "the first job's listener outlived it";
  EXPECT_EQ(in_job(next.get(), "grep -c tap0 /proc/net/dev").second, "1\n") << "the reused namespace lost its way out";
}

INSTANTIATE_TEST_SUITE_P(Sandbox, SandboxExecutorTest, ::testing::Values("sandbox"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace slipway
