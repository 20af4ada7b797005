// run_with_input: runs a program by argv with given bytes on its standard input and a changed
// environment, capturing stdout and stderr — what `run_command` cannot do, and what a test of
// `slipway secret set` (value on stdin, never in argv) needs.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"

extern char** environ;

namespace slipway::testing {

// `environment`: a value sets the variable, nullopt removes it; the rest is inherited.
inline CommandOutput run_with_input(const std::vector<std::string>& argv, const std::string& input,
                                    const std::map<std::string, std::optional<std::string>>& environment = {}) {
  TemporaryDirectory folder("slipway-command");
  std::string in = (folder.path() / "in").string(), out = (folder.path() / "out").string(),
              err = (folder.path() / "err").string();
  std::ofstream(in, std::ios::binary) << input;
  std::vector<std::string> variables;
  for (char** entry = environ; *entry; ++entry) {
    std::string variable = *entry;
    if (!environment.count(variable.substr(0, variable.find('=')))) variables.push_back(variable);
  }
  for (const auto& [name, value] : environment) {
    if (value) variables.push_back(name + "=" + *value);
  }
  std::vector<char*> envp, args;
  for (auto& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments = argv;
  for (auto& argument : arguments) args.push_back(argument.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  CommandOutput output;
  int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return output;
  int status = 0;
  waitpid(pid, &status, 0);
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  output.out = read_file(out).ok() ? *read_file(out) : "";
  output.err = read_file(err).ok() ? *read_file(err) : "";
  return output;
}

// `slipway secret set ADDRESS... --data-dir DATA` with `value` on standard input, straight into
// the data directory (no server, no SLIPWAY_MASTER_KEY from the caller's environment).
inline CommandOutput set_secret_in(const std::filesystem::path& data, std::vector<std::string> address,
                                   const std::string& value) {
  address.insert(address.begin(), {SLIPWAY_BINARY, "secret", "set"});
  address.insert(address.end(), {"--data-dir", data.string()});
  return run_with_input(address, value, {{"SLIPWAY_SERVER", std::nullopt}, {"SLIPWAY_MASTER_KEY", std::nullopt}});
}

}  // namespace slipway::testing
