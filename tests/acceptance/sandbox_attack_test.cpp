// The trust boundary, tried as someone who can push a branch would: a repository whose suite,
// service and ready command each try to read the server's keys and database, list its data
// directory, read another process's environment, reach a Unix socket of the host (as
// docker.sock would be), read /etc/shadow and /root, write outside the workspace, and find
// themselves root or with capabilities, read the memory of the sandbox's PID 1 (which runs in
// the server's memory, base/sandbox_entry.h), and make a user namespace of their own. Every
// attempt must be blocked in the sandbox; the same
// script under the host executor shows the attempts are real (they succeed there).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include "base/strings.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;

// A listening Unix socket on the host, standing in for /var/run/docker.sock.
class HostSocket {
 public:
  HostSocket() : path_(fmt::format("/run/slipway-attack-{}.sock", ::getpid())) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
    ::unlink(path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
  }
  ~HostSocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// Each attempt prints "BREACH <where> <what>" when it got through, "blocked <where> <what>"
// when it did not. The workspace is mounted at its own path, so the folders above it exist in the
// sandbox as empty mount points: listing the data directory may show `runs` and nothing else.
std::string attack_script(const fs::path& data, const std::string& socket) {
  return fmt::format(R"SCRIPT(where=$1
try() {{ what=$1; shift; if "$@" >/dev/null 2>&1; then echo "BREACH $where $what"; else echo "blocked $where $what"; fi; }}
try read-master-key grep -q attack-key {0}/master.key
try read-database head -c 16 {0}/slipway.db
try list-data-dir sh -c 'ls -A {0} | grep -qv "^runs$"' 
try server-environ sh -c 'cat /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n" | grep -q "^SLIPWAY_ADMIN_TOKEN=attack"'
try host-socket sh -c 'test -S {1} || test -S /var/run/docker.sock || test -S /run/docker.sock'
try read-shadow grep -q "^root:" /etc/shadow
try read-root-home sh -c 'ls -A /root | grep -q .'
try write-usr touch /usr/slipway-attack-$$
try write-etc touch /etc/slipway-attack-$$
try be-root test "$(id -u)" = 0
try capabilities grep -q "CapEff:.*[1-9a-f]" /proc/self/status
try init-memory sh -c 'head -c 1 /proc/1/maps | grep -q .'
try init-environ sh -c 'head -c 1 /proc/1/environ | grep -q .'
try user-namespace unshare --user true
)SCRIPT",
                     data.string(), socket);
}

const std::vector<std::string> kAttempts = {"read-master-key", "read-database", "list-data-dir",
                                            "server-environ",  "host-socket",   "read-shadow",
                                            "read-root-home",  "write-usr",     "write-etc",
                                            "be-root",         "capabilities",  "init-memory",
                                            "init-environ",    "user-namespace"};

class SandboxAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("SLIPWAY_ADMIN_TOKEN", "attack-token-that-must-never-be-seen-by-a-step", 1);
    std::ofstream(slipway_.data_dir() / "master.key") << "attack-key\n";
    repo_.write("attack.sh", attack_script(slipway_.data_dir(), socket_.path()));
    repo_.write(".slipway.yml", R"(kind: application
test:
  services:
    spy:
      run: "bash attack.sh service > service-report.txt; exec sleep 600"
      ready: "test -s service-report.txt && bash attack.sh ready > ready-report.txt"
  suites:
    unit: { run: "bash attack.sh suite; cat service-report.txt ready-report.txt" }
)");
    repo_.commit();
  }
  void TearDown() override {
    ::unsetenv("SLIPWAY_ADMIN_TOKEN");
    for (const char* folder : {"/usr", "/etc"}) {
      for (const auto& entry : fs::directory_iterator(folder)) {
        if (starts_with(entry.path().filename().string(), "slipway-attack-")) fs::remove(entry.path());
      }
    }
  }

  ScratchRepository repo_;
  SlipwayCommand slipway_;
  HostSocket socket_;
};

TEST_F(SandboxAttack, EveryAttemptFromASuiteAServiceAndAReadyCommandIsBlocked) {
  auto result = slipway_.run({"run", repo_.path().string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* where : {"suite", "service", "ready"}) {
    for (const std::string& what : kAttempts) {
      EXPECT_NE(result.out.find(fmt::format("blocked {} {}", where, what)), std::string::npos)
          << where << " " << what << " was not tried or not blocked:\n" << result.out;
    }
  }
  EXPECT_EQ(result.out.find("BREACH"), std::string::npos) << result.out;
}

TEST_F(SandboxAttack, TheSameAttemptsSucceedOnTheHostExecutorSoTheChecksCanFail) {
  auto result = slipway_.run({"run", repo_.path().string(), "--executor", "host"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  // (Not init-memory and init-environ: on the host, PID 1 is the machine's init, not ours.)
  for (const char* what : {"read-master-key", "read-database", "list-data-dir", "host-socket", "read-shadow",
                           "be-root", "user-namespace"}) {
    EXPECT_NE(result.out.find(fmt::format("BREACH suite {}", what)), std::string::npos) << what << "\n" << result.out;
  }
}

}  // namespace
}  // namespace slipway::testing
