// Crash recovery, end to end: the real `slipway serve` with one runner is SIGKILLed while a run's
// step is executing and two more runs wait; a new server on the same data directory must fail
// the interrupted run ("server restarted"), leave no process of its step running, carry the
// queued runs through, and show a consistent state over the API. Both executors: the sandbox
// loses its step with the server (the sandbox's init dies with the thread that started it, and
// its PID namespace with it), the host's step outlives it until
// the restart's recovery finds it by its marker.
//
// The slow run's step is `sleep 1000.<token>`, unique to this test process and executor, so the
// /proc checks never confuse it with another test's; the queued runs are of a second commit
// whose suite runs `true`. Everything the test starts is killed by PID on the way out, whatever
// happened.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kAdminToken = "crash-test-admin-token-0123456789abcdef";

// Polls `done` every 50 ms until it holds or `limit` passes; returns its last answer.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto give_up_at = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > give_up_at) return false;
    std::this_thread::sleep_for(50ms);
  }
}

std::string read_cmdline(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text;
}

// Live processes whose command line holds `marker` (zombies have an empty cmdline).
std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid != ::getpid() && read_cmdline(pid).find(marker) != std::string::npos) found.push_back(pid);
  }
  return found;
}

// "pid (ppid state) cmdline" of each process, for failure messages.
std::string describe(const std::vector<pid_t>& pids) {
  std::string text;
  for (pid_t pid : pids) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    text += "\n  " + line.substr(0, 80) + " | " + read_cmdline(pid);
  }
  return text;
}

// `slipway serve` on a free port, killable with SIGKILL like a crash; stopped on destruction.
class Server {
 public:
  Server(const fs::path& config, const fs::path& data, const fs::path& log) : log_(log) {
    // The log is appended to across restarts: only an announcement after this point counts.
    std::error_code absent;
    std::uintmax_t size = fs::file_size(log, absent);
    announced_at_ = absent ? 0 : static_cast<size_t>(size);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("SLIPWAY_ADMIN_TOKEN", kAdminToken.c_str(), 1);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<std::string> arguments = {SLIPWAY_BINARY, "serve", "--listen", "127.0.0.1:0",
                                            "--config", config.string(), "--data-dir", data.string()};
      std::vector<char*> argv;
      for (auto& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    eventually([&] { return find_address(); }, 10s);
  }
  ~Server() { stop(SIGTERM); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for the server to end (SIGKILL after 10 s).
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    bool ended = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 10s);
    if (!ended) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = 0;
  }

 private:
  bool find_address() {
    auto text = read_file(log_);
    if (!text) return false;
    size_t found = text->rfind("serving on http://");
    if (found == std::string::npos || found < announced_at_) return false;
    size_t start = found + 18;
    address_ = text->substr(start, text->find_first_of(" \n", start) - start);
    return true;
  }

  fs::path log_;
  pid_t pid_ = -1;
  std::string address_;
  size_t announced_at_ = 0;
};

class ServerCrash : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    marker_ = "1000." + std::to_string(::getpid()) + (GetParam() == "host" ? "1" : "2");
    repository_.write(".slipway.yml", spec_running("sleep " + marker_));
    slow_commit_ = repository_.commit("slow");
    repository_.write(".slipway.yml", spec_running("true"));
    fast_commit_ = repository_.commit("fast");
    std::ofstream(scratch_.path() / "slipway.yml")
        << "executor: " << GetParam() << "\nconcurrency: 1\nrepositories:\n  - { name: demo, url: "
        << repository_.path().string() << ", main: main }\n";
  }

  // Whatever happened: the servers first (they would restart steps), then any marked process.
  void TearDown() override {
    server_.reset();
    for (pid_t pid : processes_with(marker_)) ::kill(pid, SIGKILL);
  }

  static std::string spec_running(const std::string& command) {
    return "kind: library\ntest:\n  suites:\n    unit: { run: \"" + command + "\" }\n";
  }

  void start_server() {
    server_ = std::make_unique<Server>(scratch_.path() / "slipway.yml", scratch_.path() / "data",
                                       scratch_.path() / "serve.log");
    ASSERT_FALSE(server_->address().empty()) << log();
  }

  std::string log() const {
    auto text = read_file(scratch_.path() / "serve.log");
    return text ? *text : "";
  }

  Json call(const std::string& method, const std::string& target, const std::string& body = "") {
    HttpAnswer answer = http_request(server_->address(), method, target,
                                     {{"Authorization", "Bearer " + kAdminToken}}, body);
    return Json::parse(answer.body, nullptr, false);
  }

  int64_t trigger(const std::string& commit) {
    Json run = call("POST", "/api/v1/repositories/demo/trigger", Json{{"commit", commit}}.dump());
    return run.is_object() ? run.value("id", int64_t{0}) : 0;
  }

  Json run(int64_t id) { return call("GET", "/api/v1/runs/" + std::to_string(id)); }

  bool command_running() const {
    for (pid_t pid : processes_with(marker_)) {
      if (read_cmdline(pid).rfind("sleep ", 0) == 0) return true;
    }
    return false;
  }

  static bool any_step_in(const Json& run, const std::string& status) {
    if (!run.is_object() || !run.contains("jobs")) return false;
    for (const Json& job : run["jobs"]) {
      for (const Json& step : job["steps"]) {
        if (step.value("status", "") == status) return true;
      }
    }
    return false;
  }

  TemporaryDirectory scratch_{"slipway-crash"};
  ScratchRepository repository_;
  std::string marker_;
  std::string slow_commit_;
  std::string fast_commit_;
  std::unique_ptr<Server> server_;
};

TEST_P(ServerCrash, FailsTheInterruptedRunKillsItsStepAndRunsTheQueuedOnes) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  int64_t interrupted = trigger(slow_commit_);
  int64_t second = trigger(fast_commit_);
  int64_t third = trigger(fast_commit_);
  ASSERT_GT(interrupted, 0) << log();
  ASSERT_GT(second, 0);
  ASSERT_GT(third, 0);

  // The first run's step is executing — its command itself, not only the bash on the way to
  // it — and the other two wait behind it.
  ASSERT_TRUE(eventually([&] { return any_step_in(run(interrupted), "running") && command_running(); }, 15s))
      << run(interrupted).dump(2) << log();
  EXPECT_EQ(run(second).value("status", ""), "queued");
  EXPECT_EQ(run(third).value("status", ""), "queued");

  server_->stop(SIGKILL);
  // For the record (the host's step normally survives: only the restart can stop it).
  RecordProperty("step_outlived_the_server", processes_with(marker_).empty() ? "no" : "yes");
  if (GetParam() == "sandbox") {
    // The sandbox's init dies with the server (PR_SET_PDEATHSIG), and the step's namespace with it.
    EXPECT_TRUE(eventually([&] { return processes_with(marker_).empty(); }, 5s))
        << "the sandboxed step outlived its server: " << describe(processes_with(marker_));
  }

  ASSERT_NO_FATAL_FAILURE(start_server());
  EXPECT_TRUE(eventually([&] { return run(interrupted).value("status", "") == "failed"; }, 5s));
  Json failed = run(interrupted);
  EXPECT_EQ(failed.value("status", ""), "failed") << failed.dump(2);
  EXPECT_EQ(failed.value("reason", ""), "server restarted");
  EXPECT_FALSE(any_step_in(failed, "running")) << failed.dump(2);
  for (const Json& job : failed["jobs"]) EXPECT_NE(job.value("status", ""), "running") << failed.dump(2);
  EXPECT_TRUE(eventually([&] { return processes_with(marker_).empty(); }, 5s))
      << "a process of the interrupted step is still running after the restart";

  // The queued runs go on, in order, and pass.
  for (int64_t id : {second, third}) {
    EXPECT_TRUE(eventually(
        [&] {
          std::string status = run(id).value("status", "");
          return status != "queued" && status != "running";
        },
        30s))
        << run(id).dump(2);
    EXPECT_EQ(run(id).value("status", ""), "passed") << run(id).dump(2) << log();
  }

  // Nothing is left "running" anywhere: no run, and no job or step of any run.
  Json runs = call("GET", "/api/v1/runs?limit=50");
  ASSERT_TRUE(runs.contains("runs")) << runs.dump();
  EXPECT_EQ(runs["runs"].size(), 3u);
  for (const Json& listed : runs["runs"]) {
    int64_t id = listed.value("id", int64_t{0});
    EXPECT_NE(listed.value("status", ""), "running") << listed.dump();
    Json detail = run(id);
    EXPECT_FALSE(any_step_in(detail, "running")) << detail.dump(2);
    EXPECT_NE(detail.value("finished_ms", int64_t{0}), 0) << detail.dump(2);
  }
}

INSTANTIATE_TEST_SUITE_P(BothExecutors, ServerCrash, ::testing::Values("host", "sandbox"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace slipway::testing
