// run_verify_command: the optional `deploy.verify` command, run by /bin/sh against the test
// listener before the switch. It is code from the repository, so it gets nothing of the server:
//   - started with posix_spawn (base/child_process.h), never fork, in its own session and
//     process group, which is killed when it outlives the timeout (and once it has exited, so a
//     background process cannot outlive the check);
//   - an explicit environment: the steps' small base (PATH, HOME = a private temporary folder
//     removed afterwards, LANG, ...), then `variables` (SLIPWAY_TEST_URL, SLIPWAY_APPLICATION,
//     SLIPWAY_ENVIRONMENT, SLIPWAY_IMAGE) and the deployment's declared deploy secrets — never
//     the server's own variables (admin token, master key, whatever the operator's shell had);
//   - its stdout and stderr masked with those secrets in every form (SecretMasker) before any
//     byte is kept, so the tail that becomes the deployment's reason, steps and chat notices
//     holds "***" where a secret was printed, plain or encoded.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/child_process.h"
#include "base/result.h"
#include "base/time.h"

namespace slipway {

// The sandbox a verify command runs in, open for the duration of one command: what must come
// before /bin/sh in its argv. cd/ knows no sandbox of its own; the server hands in the CI's job
// sandbox (unprivileged uid, minimal file system, the host's network to reach the test
// listener), much as it hands the run queue a Publisher.
class VerifySandbox {
 public:
  virtual ~VerifySandbox() = default;
  virtual std::vector<std::string> launch_prefix() const = 0;
  // What the spawned process enters before launch_prefix runs (cgroups, namespace, uid).
  virtual ProcessEntry entry() const = 0;
  // SLIPWAY_TEST_URL as the command sees it inside the sandbox.
  virtual std::string test_url() const = 0;
};

// Opens a sandbox whose only writable folder is `home` (the command's private HOME) and from
// which `test_listen` (HOST:PORT, the test listener) and nothing else of the host is reachable.
using VerifySandboxFactory = std::function<Result<std::unique_ptr<VerifySandbox>>(const std::filesystem::path& home,
                                                                                  const std::string& test_listen)>;

struct VerifyRequest {
  std::string command;                               // deploy.verify, as /bin/sh -c's script
  std::map<std::string, std::string> variables;      // SLIPWAY_TEST_URL and the deployment's names
  std::map<std::string, std::string> secrets;        // deploy.secrets: name → value; in the env, masked
  std::string test_listen;                           // HOST:PORT of the test listener (for the sandbox)
  // Prepended to the argv, e.g. a limits wrapper ({"/usr/bin/prlimit", ..., "--"}); empty: the
  // shell runs directly. argv[0] must be an absolute path (there is no PATH search).
  std::vector<std::string> launch_prefix;
  // When set, the command runs in the sandbox it opens (its prefix comes after launch_prefix).
  VerifySandboxFactory sandbox;
  Milliseconds timeout{300'000};
};

struct VerifyOutcome {
  bool passed = false;
  int exit_code = -1;          // -1: killed (timed out) or by a signal
  bool timed_out = false;
  std::string output_tail;     // the last 2 KiB of its stdout and stderr together, masked, UTF-8
};

// Error only when the command could not be started at all (an invalid variable name, no /bin/sh,
// out of resources); the message never holds a variable's value.
Result<VerifyOutcome> run_verify_command(const VerifyRequest& request);

// The argv the command runs as: launch_prefix, then /bin/sh -c COMMAND. One place, so that a
// sandbox wraps it by filling launch_prefix alone.
std::vector<std::string> verify_argv(const VerifyRequest& request);

}  // namespace slipway
