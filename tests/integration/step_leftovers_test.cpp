// The host executor skips its leftover hunt only when StepProcesses::provably_gone() shows the
// step left nothing. executor_test.cpp runs steps from the main thread; the server runs them
// from worker threads, where the step's leader is the worker's child but its orphans go to the
// main thread. These tests run steps from a worker thread and check that whatever a step leaves
// behind is still found and killed, and that a plain step takes the quick way out.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "ci/executor.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class NullSink : public OutputSink {
 public:
  void on_output(OutputStream, std::string_view) override {}
};

std::string cmdline_of(const fs::path& proc_dir) {
  std::ifstream file(proc_dir / "cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text;
}

// Live processes whose command line holds `text` (a zombie's is empty).
std::vector<pid_t> processes_with(const std::string& text) {
  std::vector<pid_t> pids;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (cmdline_of(it->path()).find(text) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

class StepLeftoversFromAWorkerThread : public ::testing::Test {
 protected:
  // What a failing test left, killed and reaped (an orphan is this process's child): a zombie
  // child would keep later steps from proving they left nothing.
  void TearDown() override {
    for (pid_t pid : processes_with(marker_)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Runs `script` on the host executor from a new thread, as a RunQueue worker does.
  StepOutcome run_from_worker(const std::string& script) {
    StepOutcome outcome;
    std::thread worker([&] {
      auto executor = make_host_executor();
      NullSink sink;
      auto result = executor->run({script, workspace_.path(), {}, Milliseconds(0), false}, sink, nullptr);
      if (result) outcome = *result;
    });
    worker.join();
    return outcome;
  }

  TemporaryDirectory workspace_{"slipway-leftovers"};
  std::string marker_ = "1000." + std::to_string(::getpid()) + "7";
};

TEST_F(StepLeftoversFromAWorkerThread, KillsABackgroundChild) {
  StepOutcome outcome = run_from_worker("sleep " + marker_ + " & exit 0");
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_TRUE(processes_with(marker_).empty());
}

TEST_F(StepLeftoversFromAWorkerThread, KillsADoubleForkedDaemonInItsOwnSession) {
  StepOutcome outcome = run_from_worker("(setsid sleep " + marker_ + " &) ; exit 0");
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_TRUE(processes_with(marker_).empty());
}

// A step that starts nothing ends without the hunt (two /proc walks 10 ms apart, at least 20 ms);
// one that leaves a background child is hunted down. Each plain step is checked, not timed.
TEST_F(StepLeftoversFromAWorkerThread, APlainStepEndsWithoutTheHunt) {
  for (int i = 0; i < 20; ++i) {
    StepOutcome plain = run_from_worker("true");
    EXPECT_EQ(plain.exit_code, 0);
    EXPECT_FALSE(plain.hunted) << "plain step " << i << " was hunted";
  }
  StepOutcome leaving = run_from_worker("sleep " + marker_ + " & exit 0");
  EXPECT_TRUE(leaving.hunted);
  EXPECT_TRUE(processes_with(marker_).empty());
}

}  // namespace
}  // namespace slipway
