// ScratchRepository: a throwaway git repository in a temporary folder, built file by file and
// committed with the real git CLI, for tests that need "a repository with this .slipway.yml".
// Also SlipwayCommand, which runs the built `slipway` binary the way a user would.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"

namespace slipway::testing {

class ScratchRepository {
 public:
  ScratchRepository() : folder_("slipway-repo") {
    git({"init", "--quiet", "--initial-branch=main"});
  }

  const std::filesystem::path& path() const { return folder_.path(); }

  void write(const std::string& relative, const std::string& content, bool executable = false) {
    auto file = path() / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    if (executable) std::filesystem::permissions(file, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  }

  // Commits everything and returns the new commit's sha.
  std::string commit(const std::string& message = "test commit") {
    git({"add", "-A"});
    git({"-c", "user.name=Slipway Tests", "-c", "user.email=tests@slipway.invalid", "commit", "--quiet",
         "--allow-empty", "-m", message});
    return std::string(trim(git({"rev-parse", "HEAD"})));
  }

  std::string git(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"git", "-C", path().string()});
    auto output = run_command_checked(arguments);
    EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
    return output.ok() ? *output : std::string();
  }

 private:
  TemporaryDirectory folder_;
};

// Runs `slipway ARGS...` with its own data directory; captures stdout, stderr and the status.
class SlipwayCommand {
 public:
  SlipwayCommand() : data_("slipway-data") {}

  const std::filesystem::path& data_dir() const { return data_.path(); }

  CommandOutput run(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {SLIPWAY_BINARY, "--data-dir", data_dir().string()});
    auto output = run_command(arguments);
    EXPECT_TRUE(output.ok()) << (output.ok() ? "" : output.error().message);
    return output.ok() ? *output : CommandOutput{};
  }

 private:
  TemporaryDirectory data_;
};

// True when some live process's command line contains `marker`: for checking that nothing a
// test started is left running.
inline bool process_with_marker_running(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    auto cmdline = read_file(entry.path() / "cmdline");
    if (!cmdline) continue;
    for (char& c : *cmdline) if (c == '\0') c = ' ';
    if (cmdline->find(marker) != std::string::npos && cmdline->find("gtest") == std::string::npos) return true;
  }
  return false;
}

}  // namespace slipway::testing
