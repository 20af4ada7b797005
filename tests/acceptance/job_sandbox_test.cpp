// The job sandbox through `slipway run`: one private loopback per job shared by its services
// and suites, the unprivileged uid owning the workspace, the network modes, a private /tmp and
// $HOME shared by the job's steps, and the per-job limits named in a failed step's reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include "support/http_test_client.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

// A service listening on 127.0.0.1:PORT inside the job, a suite that talks to it, and a pause
// long enough for the test to look from the host.
std::string service_job(int port, const std::string& answer) {
  return fmt::format(R"(kind: application
test:
  services:
    db:
      run: "mkdir -p www && echo {1} > www/answer && exec python3 -m http.server {0} --bind 127.0.0.1 --directory www"
      ready: "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:{0}/answer\")'"
  suites:
    unit: {{ run: "touch started; python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:{0}/answer\").read().decode().strip())'; sleep 3" }}
)",
                     port, answer);
}

// True once a file named `name` exists anywhere below `folder` (a run's workspace, say).
bool file_below(const std::filesystem::path& folder, const std::string& name) {
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(folder, std::filesystem::directory_options::skip_permission_denied,
                                                   error);
  for (std::filesystem::recursive_directory_iterator end; !error && it != end; it.increment(error)) {
    if (it->path().filename() == name) return true;
  }
  return false;
}

TEST(JobSandbox, TwoJobsEachReachTheirOwnServiceOnTheSamePortAndTheHostReachesNeither) {
  constexpr int kPort = 15432;
  ScratchRepository first, second;
  first.write(".slipway.yml", service_job(kPort, "first-job"));
  first.commit();
  second.write(".slipway.yml", service_job(kPort, "second-job"));
  second.commit();
  SlipwayCommand slipway_a, slipway_b;
  auto run_a = std::async(std::launch::async, [&] { return slipway_a.run({"run", first.path().string()}); });
  auto run_b = std::async(std::launch::async, [&] { return slipway_b.run({"run", second.path().string()}); });
  // Once both suites run (each touched `started` in its workspace, its service up), nothing
  // listens on the host's own loopback. The deadline is only a hang guard.
  for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       !(file_below(slipway_a.data_dir(), "started") && file_below(slipway_b.data_dir(), "started")) &&
       std::chrono::steady_clock::now() < give_up;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(file_below(slipway_a.data_dir(), "started") && file_below(slipway_b.data_dir(), "started"));
  EXPECT_FALSE(host_can_connect(kPort)) << "a job's service was reachable from the host";
  auto a = run_a.get();
  auto b = run_b.get();
  EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
  EXPECT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_NE(a.out.find("[unit] first-job"), std::string::npos) << a.out;
  EXPECT_NE(b.out.find("[unit] second-job"), std::string::npos) << b.out;
}

TEST(JobSandbox, StepsRunAsAnUnprivilegedUidThatOwnsTheWorkspace) {
  ScratchRepository repo;
  repo.write("tracked.txt", "original\n");
  repo.write(".slipway.yml", R"(kind: library
test:
  suites:
    unit: { run: "echo uid=$(id -u) owner=$(stat -c %u .) nnp=$(grep NoNewPrivs /proc/self/status | cut -f2) user=$(id -un) home=$HOME; echo changed > tracked.txt && cat tracked.txt" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto at = result.out.find("[unit] uid=");
  ASSERT_NE(at, std::string::npos) << result.out;
  std::string line = result.out.substr(at + 7, result.out.find('\n', at) - at - 7);
  EXPECT_EQ(line.find("uid=0 "), std::string::npos) << line;
  std::string uid = line.substr(4, line.find(' ') - 4);
  EXPECT_NE(line.find("owner=" + uid + " "), std::string::npos) << line;
  EXPECT_NE(line.find("nnp=1"), std::string::npos) << line;
  EXPECT_NE(line.find("user=slipway"), std::string::npos) << line;
  EXPECT_NE(line.find("home=/home/slipway"), std::string::npos) << line;
  EXPECT_NE(result.out.find("[unit] changed"), std::string::npos) << result.out;
}

TEST(JobSandbox, TmpAndHomeAreSharedByTheJobsStepsAndGoneAfterIt) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: library
test:
  setup: "echo from-setup > /tmp/left-by-setup && echo in-home > $HOME/.cache-marker"
  suites:
    unit: { run: "cat /tmp/left-by-setup $HOME/.cache-marker" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("[unit] from-setup"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[unit] in-home"), std::string::npos) << result.out;
  auto second = slipway.run({"run", repo.path().string()});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
}

TEST(JobSandbox, NetworkNoneHasOnlyLoopbackAndOutboundHasAWayOut) {
  // Only the routing table and the interface list are read: no packet leaves the machine.
  const char* probe =
      "awk 'NR > 1 && $2 == \"00000000\" { print \"default-route \" $1 }' /proc/net/route\n"
      "echo interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1)\n";
  ScratchRepository none, outbound;
  none.write("probe.sh", probe);
  none.write(".slipway.yml", "kind: library\ntest:\n  network: none\n  suites:\n    unit: { run: bash probe.sh }\n");
  none.commit();
  outbound.write("probe.sh", probe);
  outbound.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: bash probe.sh }\n");
  outbound.commit();
  SlipwayCommand slipway;
  auto closed = slipway.run({"run", none.path().string()});
  ASSERT_EQ(closed.exit_code, 0) << closed.out << closed.err;
  EXPECT_EQ(closed.out.find("default-route"), std::string::npos) << closed.out;
  EXPECT_NE(closed.out.find("[unit] interfaces: lo\n"), std::string::npos) << closed.out;
  auto open = slipway.run({"run", outbound.path().string()});
  ASSERT_EQ(open.exit_code, 0) << open.out << open.err;
  EXPECT_NE(open.out.find("[unit] default-route tap0"), std::string::npos) << open.out;
}

// The namespace goes back to the pool after a job, so what a job could change in it would meet
// the next: it belongs to the server's user namespace, where the job's uid has no capability.
// Only the namespace's own tables change hands here; no packet is sent.
TEST(JobSandbox, AStepCannotChangeItsJobsNetwork) {
  ScratchRepository repo;
  repo.write("probe.sh",
             "for change in 'ip link set lo down' 'ip addr add 127.0.0.9/8 dev lo' 'ip route add 192.0.2.0/24 dev tap0' "
             "'ip link add dummy9 type dummy'; do\n"
             "  if error=$($change 2>&1); then echo \"changed: $change\"; else echo \"refused: $change: $error\"; fi\n"
             "done\n"
             "if error=$( (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1 ); then echo 'changed: ip_forward'; "
             "else echo \"refused: ip_forward: $error\"; fi\n");
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: bash probe.sh }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("changed:"), std::string::npos) << result.out;
  // Refused for want of the capability, not for want of `ip` or of the device.
  for (const char* change : {"ip link set lo down", "ip addr add", "ip route add", "ip link add"}) {
    size_t line = result.out.find(std::string("refused: ") + change);
    ASSERT_NE(line, std::string::npos) << change << "\n" << result.out;
    EXPECT_NE(result.out.substr(line, result.out.find('\n', line) - line).find("Operation not permitted"), std::string::npos)
        << result.out;
  }
  size_t forward = result.out.find("refused: ip_forward: ");
  ASSERT_NE(forward, std::string::npos) << result.out;
  std::string why = result.out.substr(forward, result.out.find('\n', forward) - forward);
  EXPECT_TRUE(why.find("Read-only file system") != std::string::npos || why.find("Permission denied") != std::string::npos)
      << why;
}

// `slipway run` leaves its job's network (the namespace and slirp4netns) to end on their own
// when it exits, as after a kill -9, rather than wait for the kernel to tear slirp4netns's tap
// device down: they must end all the same. This test adopts them (a child subreaper, as the
// server is) and waits for every one.
TEST(JobSandbox, NothingOfAJobsNetworkOutlivesSlipwayRun) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: 'true'\n");
  repo.commit();
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int adopted = 0;
  bool all_ended = false;
  while (std::chrono::steady_clock::now() < deadline) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0) {
      all_ended = errno == ECHILD;
      break;
    }
    if (info.si_pid != 0) ++adopted;
    else std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(all_ended) << adopted << " adopted so far; some are still running after 5 s";
}

// Jobs starting side by side, each with its own namespace and slirp4netns. When bubblewrap made
// a holder process for the namespace, it set up the loopback while slirp4netns configured its
// way out, and the two raced (the holder exited with "loopback: Failed RTM_NEWADDR", the first
// step could not enter the namespace), about one start in forty on a busy machine; the loopback
// is now up before slirp4netns starts.
TEST(JobSandbox, JobsStartingAtOnceEachGetTheirNetwork) {
  ScratchRepository repo;
  repo.write(".slipway.yml",
             "kind: library\ntest:\n  suites:\n    unit: { run: \"grep -q tap0 /proc/net/dev && echo networked\" }\n");
  repo.commit();
  constexpr int kParallel = 4, kRunsEach = 15;
  std::vector<std::future<std::string>> lanes;
  for (int lane = 0; lane < kParallel; ++lane) {
    lanes.push_back(std::async(std::launch::async, [&] {
      SlipwayCommand slipway;
      for (int run = 0; run < kRunsEach; ++run) {
        auto result = slipway.run({"run", repo.path().string()});
        if (result.exit_code != 0 || result.out.find("[unit] networked") == std::string::npos) {
          return result.out + result.err;
        }
      }
      return std::string();
    }));
  }
  for (auto& lane : lanes) EXPECT_EQ(lane.get(), "");
}

TEST(JobSandbox, ForkingTenThousandProcessesFailsOnTheJobsProcessLimit) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: library
test:
  limits: { pids: 64 }
  suites:
    bomb: { run: "python3 -c \"import os, time\nfor i in range(10000):\n  if os.fork() == 0: time.sleep(30); os._exit(0)\nprint(\x27all-forked\x27)\"", timeout: 60s }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out.find("[bomb] all-forked"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("process limit (64 processes) reached"), std::string::npos) << result.out;
}

TEST(JobSandbox, FillingTmpPastItsLimitFailsAndSaysWhich) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: library
test:
  limits: { tmp: 8m }
  suites:
    fill: { run: "dd if=/dev/zero of=/tmp/fill bs=1M count=64 && echo filled" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out.find("[fill] filled"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("the private /tmp and $HOME are full (job limit 8 MiB)"), std::string::npos) << result.out;
}

TEST(JobSandbox, UsingMoreMemoryThanTheLimitIsKilledAndNamed) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: library
test:
  limits: { memory: 64m }
  suites:
    hog: { run: "python3 -c 'x = bytearray(512 * 1024 * 1024); print(\"allocated\")'" }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out.find("[hog] allocated"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("out of memory (job limit 64 MiB)"), std::string::npos) << result.out;
}

TEST(JobSandbox, ARepositoryCannotRaiseTheLimits) {
  ScratchRepository repo;
  repo.write(".slipway.yml", R"(kind: library
test:
  limits: { pids: 1000000 }
  suites:
    bomb: { run: "python3 -c \"import os, time\nfor i in range(3000):\n  if os.fork() == 0: time.sleep(30); os._exit(0)\nprint(\x27all-forked\x27)\"", timeout: 60s }
)");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_EQ(result.out.find("[bomb] all-forked"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("process limit (2048 processes) reached"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace slipway::testing

namespace slipway::testing {
namespace {

// The publish stage runs git and the image build in the workspace after the test job; git
// refuses a repository another user owns, so the job's uid must hand it back.
TEST(JobSandbox, TheWorkspaceGoesBackToTheServersUserAfterTheJob) {
  ScratchRepository repo;
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"echo made-by-the-job > made.txt\" }\n");
  repo.commit();
  SlipwayCommand slipway;
  auto result = slipway.run({"run", repo.path().string(), "--keep-workspace"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::filesystem::path workspace = slipway.data_dir() / "runs" / "1" / "workspace";
  struct stat made {};
  ASSERT_EQ(::stat((workspace / "made.txt").c_str(), &made), 0) << result.out;
  EXPECT_EQ(made.st_uid, ::getuid());
  auto status = run_command({"git", "-C", workspace.string(), "status", "--porcelain"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->err;
}

}  // namespace
}  // namespace slipway::testing
