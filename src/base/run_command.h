// run_command: runs a short-lived helper program (git, haproxy -c, docker) by argv — never
// through a shell — and captures what it prints. It starts the program through ChildProcess
// (base/child_process.h), the one way Slipway starts any program; the name is looked up on this
// process's PATH. For the steps of a job, use ci/executor.h instead: this keeps the whole output
// in memory and stops only the program's own session at a timeout.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

struct CommandOutput {
  int exit_code = -1;       // -1 when the program was killed by a signal
  std::string out;          // stdout
  std::string err;          // stderr
  bool timed_out = false;   // killed at CommandOptions::timeout
};

struct CommandOptions {
  std::filesystem::path working_directory;           // empty: this process's
  // "NAME=value" entries, the whole environment; absent: this process's (which holds none of
  // the server's own secrets: base/process_environment.h).
  std::optional<std::vector<std::string>> environment;
  // Zero: none. Past it, the program's whole process group (it runs in one of its own: git's
  // ssh and remote helpers go with it) is killed, and the result says timed_out.
  std::chrono::milliseconds timeout{0};
  // Written to the program's stdin, which then ends; without it, stdin is /dev/null. Fed while
  // the output is read, so a program that answers as it reads never blocks on a full pipe.
  std::optional<std::string> input;
};

// An Error only when the program could not be started; a non-zero exit is a normal result.
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const std::filesystem::path& working_directory = {});
Result<CommandOutput> run_command(const std::vector<std::string>& argv, const CommandOptions& options);

// Like run_command, but a non-zero exit becomes an Error quoting the program's stderr (its
// stdout when stderr is empty): "<name> failed (exit N): ...", where `name` is argv[0] unless
// given (for a program started through another, such as `env ... git fetch`).
Result<std::string> run_command_checked(const std::vector<std::string>& argv,
                                        const std::filesystem::path& working_directory = {},
                                        std::string_view name = {});

}  // namespace slipway
