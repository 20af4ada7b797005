// run_command: runs a short-lived helper program (git, bwrap --version) by argv — never through
// a shell — and captures what it prints. For the steps of a job, use ci/executor.h instead:
// this has no timeout, no process-tree handling and keeps the whole output in memory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway {

struct CommandOutput {
  int exit_code = -1;       // -1 when the program was killed by a signal
  std::string out;          // stdout
  std::string err;          // stderr
};

// An Error only when the program could not be started; a non-zero exit is a normal result.
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const std::filesystem::path& working_directory = {});

// Like run_command, but a non-zero exit becomes an Error quoting the program's stderr.
Result<std::string> run_command_checked(const std::vector<std::string>& argv,
                                        const std::filesystem::path& working_directory = {});

}  // namespace slipway
