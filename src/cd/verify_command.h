// run_verify_command: the optional `deploy.verify` command, run by /bin/sh against the test
// listener before the switch. It gets SLIPWAY_TEST_URL (http://TEST_LISTEN) and the deployment's
// application, environment and image in its environment; its process group is killed when it
// outlives the timeout, so a hung check cannot hold a deployment for ever.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "base/time.h"

namespace slipway {

struct VerifyOutcome {
  bool passed = false;
  int exit_code = -1;          // -1: killed (timed out) or by a signal
  bool timed_out = false;
  std::string output_tail;     // the last 2 KiB of its stdout and stderr together, for the reason
};

// Error only when the command could not be started at all.
Result<VerifyOutcome> run_verify_command(const std::string& command, const std::map<std::string, std::string>& env,
                                         Milliseconds timeout);

}  // namespace slipway
