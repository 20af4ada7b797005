#include "base/step_environment.h"

#include <fmt/core.h>
#include <unistd.h>

#include <sstream>

namespace slipway {

Result<std::vector<std::string>> step_environment(
    const std::map<std::string, std::string>& variables, const std::filesystem::path& home) {
  std::map<std::string, std::string> merged = {
      {"PATH", kStepPath}, {"HOME", home.string()}, {"LANG", "C.UTF-8"},
      {"TERM", "dumb"},    {"CI", "true"},          {"SLIPWAY", "true"},
  };
  for (const auto& [name, value] : variables) {
    if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos) {
      return make_error(
          fmt::format("invalid environment variable name '{}': a name must be "
                      "non-empty and hold no '=' or NUL",
                      name));
    }
    if (value.find('\0') != std::string::npos) {
      return make_error(
          fmt::format("environment variable {} holds a NUL byte, which a process "
                      "environment cannot carry",
                      name));
    }
    merged[name] = value;
  }
  std::vector<std::string> environment;
  environment.reserve(merged.size());
  for (const auto& [name, value] : merged) environment.push_back(name + "=" + value);
  return environment;
}

std::vector<std::string> shell_command(const std::string& script) {
  return {"/bin/bash", "-e", "-o", "pipefail", "-c", script};
}

Status check_workspace(const std::filesystem::path& workspace) {
  if (!workspace.is_absolute()) {
    return make_error(
        fmt::format("the step's workspace '{}' is not an absolute path", workspace.string()));
  }
  std::error_code error;
  if (!std::filesystem::is_directory(workspace, error)) {
    return make_error(fmt::format("the step's workspace {} does not exist or is not a directory",
                                  workspace.string()));
  }
  return {};
}

std::filesystem::path find_program(const std::string& name) {
  std::istringstream directories(kStepPath);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace slipway
