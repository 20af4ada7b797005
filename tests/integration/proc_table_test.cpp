// What the process table says of a process's environment: the step's marker is how a re-parented
// orphan is recognised as a step's, and "nothing to read" (a process started without an
// environment, or one inside execve()) must stay apart from "does not hold it", so that the hunt
// for a step's leftovers looks again instead of taking an orphan mid-exec for someone else's.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "ci/proc_table.h"

namespace slipway {
namespace {

constexpr char kMarker[] = "SLIPWAY_STEP_MARKER=0123456789abcdef";

// A `sleep 30` started with exactly `environment`, killed and reaped when the test ends.
class Sleeper {
 public:
  explicit Sleeper(std::vector<std::string> environment) : environment_(std::move(environment)) {
    std::vector<char*> argv = {const_cast<char*>("/bin/sleep"), const_cast<char*>("30"), nullptr};
    std::vector<char*> envp;
    for (std::string& entry : environment_) envp.push_back(entry.data());
    envp.push_back(nullptr);
    started_ = ::posix_spawn(&pid_, "/bin/sleep", nullptr, nullptr, argv.data(), envp.data()) == 0;
  }
  ~Sleeper() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  pid_t pid() const { return pid_; }
  bool started() const { return started_; }

 private:
  std::vector<std::string> environment_;
  pid_t pid_ = 0;
  bool started_ = false;
};

// posix_spawn returns once the child has exec'd, but its environment is readable a moment later:
// the look this test is about. Waits until it says anything but `nothing`, for 5 s at most.
EnvironmentLook settled_look(pid_t pid, std::string_view entry) {
  EnvironmentLook look = EnvironmentLook::nothing;
  for (int i = 0; i < 500 && look == EnvironmentLook::nothing; ++i) {
    look = look_for_environment_entry(pid, entry);
    if (look == EnvironmentLook::nothing) ::usleep(10'000);
  }
  return look;
}

TEST(ProcTable, AProcessStartedWithTheMarkerHoldsIt) {
  Sleeper sleeper({"PATH=/usr/bin:/bin", kMarker});
  ASSERT_TRUE(sleeper.started());
  EXPECT_EQ(settled_look(sleeper.pid(), kMarker), EnvironmentLook::holds);
}

TEST(ProcTable, AnotherStepsMarkerOrAPrefixOfOursIsNotOurs) {
  Sleeper other({"PATH=/usr/bin:/bin", "SLIPWAY_STEP_MARKER=0123456789abcdef00"});
  ASSERT_TRUE(other.started());
  EXPECT_EQ(settled_look(other.pid(), kMarker), EnvironmentLook::lacks);
  Sleeper shorter({"SLIPWAY_STEP_MARKER=0123456789abcde", "PATH=/usr/bin:/bin"});
  ASSERT_TRUE(shorter.started());
  EXPECT_EQ(settled_look(shorter.pid(), kMarker), EnvironmentLook::lacks);
  EXPECT_TRUE(environment_has_prefix(shorter.pid(), "SLIPWAY_STEP_MARKER=0123"));
}

TEST(ProcTable, AnEmptyEnvironmentReadsAsNothingNotAsLacking) {
  Sleeper empty({});
  ASSERT_TRUE(empty.started());
  // Nothing to read, however long one waits: the kill_all() hunt bounds how long it looks again.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(look_for_environment_entry(empty.pid(), kMarker), EnvironmentLook::nothing);
    ::usleep(10'000);
  }
  EXPECT_FALSE(environment_has_prefix(empty.pid(), "SLIPWAY_STEP_MARKER="));
}

TEST(ProcTable, AProcessThatIsGoneReadsAsNothing) {
  Sleeper gone({kMarker});
  ASSERT_TRUE(gone.started());
  pid_t pid = gone.pid();
  gone.stop();
  EXPECT_EQ(look_for_environment_entry(pid, kMarker), EnvironmentLook::nothing);
}

}  // namespace
}  // namespace slipway
