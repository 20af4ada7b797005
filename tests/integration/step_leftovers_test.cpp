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
#include "base/git_objects.h"
#include "ci/executor.h"
#include "support/scratch_repository.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ScratchRepository;

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

// The server's own long-lived git (base/git_objects.h) is a child of the thread that first read
// a repository, often the worker that then runs the step. It is registered as a helper, so the
// proof still holds beside it; any other child of the thread still makes the step hunted.
TEST_F(StepLeftoversFromAWorkerThread, TheServersOwnGitBesideAStepDoesNotForceTheHunt) {
  ScratchRepository repository;
  repository.write("README.md", "hi\n");
  std::string commit = repository.commit();
  StepOutcome beside_git, beside_other;
  std::thread worker([&] {
    auto objects = GitObjects::of(repository.path());
    auto found = objects->info(commit);  // starts the long-lived git from this thread
    EXPECT_TRUE(found.ok() && found->has_value());
    auto executor = make_host_executor();
    NullSink sink;
    auto plain = executor->run({"true", workspace_.path(), {}, Milliseconds(0), false}, sink, nullptr);
    if (plain) beside_git = *plain;
    // A child of this thread that is not a registered helper: the proof must fail.
    pid_t other = ::fork();
    if (other == 0) {
      ::pause();
      ::_exit(0);
    }
    auto again = executor->run({"true", workspace_.path(), {}, Milliseconds(0), false}, sink, nullptr);
    if (again) beside_other = *again;
    ::kill(other, SIGKILL);
    ::waitpid(other, nullptr, 0);
  });
  worker.join();
  EXPECT_EQ(beside_git.exit_code, 0);
  EXPECT_FALSE(beside_git.hunted) << "the server's git made a plain step look unproven";
  EXPECT_TRUE(beside_other.hunted) << "an unknown child of the thread was ignored";
}

}  // namespace
}  // namespace slipway
