// A Slipway that is not root still sandboxes every step (ci/job_sandbox.h, "without root"): the
// step runs as the server's own user in namespaces of its own, with the same file system view.
// Its PID 1 is then a copy of the server's memory (base/sandbox_entry.h), holding whatever the
// server holds, and runs as the same user as the step: the step must not be able to read it.
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include "base/run_command.h"
#include "support/scratch_repository.h"

namespace slipway::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kUnprivileged = 65534;  // nobody

void give_tree_to_unprivileged(const fs::path& root) {
  auto output = run_command({"chown", "-R", fmt::format("{0}:{0}", kUnprivileged), root.string()});
  ASSERT_TRUE(output.ok() && output->exit_code == 0) << "chown " << root;
}

TEST(SandboxWithoutRoot, StepsRunAsTheServersUserAndCannotReadTheirInitsMemory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to become an unprivileged user";
  ScratchRepository repo;
  TemporaryDirectory data("slipway-data-unprivileged");
  repo.write("probe.sh", R"SCRIPT(try() { what=$1; shift; if "$@" >/dev/null 2>&1; then echo "BREACH $what"; else echo "blocked $what"; fi; }
echo "uid $(id -u)"
echo "pids $(ls /proc | grep -c '^[0-9]')"
try init-memory sh -c 'head -c 1 /proc/1/maps | grep -q .'
try init-environ sh -c 'head -c 1 /proc/1/environ | grep -q .'
try read-shadow grep -q "^root:" /etc/shadow
try write-usr touch /usr/slipway-unprivileged-$$
try user-namespace unshare --user true
try own-memory sh -c 'head -c 1 /proc/self/maps | grep -q .'
)SCRIPT");
  repo.write(".slipway.yml", "kind: library\ntest:\n  suites:\n    unit: { run: \"bash probe.sh\" }\n");
  repo.commit();
  give_tree_to_unprivileged(repo.path());
  give_tree_to_unprivileged(data.path());

  auto result = run_command({"setpriv", fmt::format("--reuid={}", kUnprivileged), fmt::format("--regid={}", kUnprivileged),
                             "--clear-groups", "env", "HOME=" + data.path().string(), SLIPWAY_BINARY, "--data-dir",
                             (data.path() / "data").string(), "run", repo.path().string()});
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->exit_code, 0) << result->out << result->err;
  EXPECT_NE(result->out.find(fmt::format("uid {}", kUnprivileged)), std::string::npos) << result->out;
  // Its own PID namespace: the init, the step's shell and what it started, not the machine's.
  size_t pids_at = result->out.find("pids ");
  ASSERT_NE(pids_at, std::string::npos) << result->out;
  EXPECT_LT(std::stoi(result->out.substr(pids_at + 5)), 10) << result->out;
  for (const char* what : {"init-memory", "init-environ", "read-shadow", "write-usr", "user-namespace"}) {
    EXPECT_NE(result->out.find(fmt::format("blocked {}", what)), std::string::npos) << what << "\n" << result->out;
  }
  // The control: the same read of its own memory works, so the blocked reads above are real.
  EXPECT_NE(result->out.find("BREACH own-memory"), std::string::npos) << result->out;
}

}  // namespace
}  // namespace slipway::testing
