// `slipway hook install REPO_PATH`: makes a bare repository tell the server about every push,
// through a post-receive hook (cli/post_receive_script.h). A hook already there that is not
// Slipway's is kept only when asked (--chain): it is moved aside and run first, with the same
// input and its exit status kept, so installing Slipway never silently drops someone's hook.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include <fmt/core.h>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/post_receive_script.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

struct HookOptions {
  std::string repository_path;
  std::string server;
  std::string repository;
  bool chain = false;
};

// The hooks folder of a bare repository (honouring core.hooksPath), or why there is none.
Result<fs::path> bare_hooks_directory(const fs::path& repository) {
  auto bare = run_command({"git", "-C", repository.string(), "rev-parse", "--is-bare-repository"});
  if (!bare) return bare.error();
  if (bare->exit_code != 0) return make_error(fmt::format("{} is not a git repository", repository.string()));
  if (trim(bare->out) != "true") {
    return make_error(fmt::format("{} is a work tree, not a bare repository: install the hook in the bare "
                                  "repository that people push to (git clone --bare makes one)",
                                  repository.string()));
  }
  auto hooks = run_command_checked({"git", "-C", repository.string(), "rev-parse", "--git-path", "hooks"});
  if (!hooks) return hooks.error();
  fs::path path(std::string(trim(*hooks)));
  return path.is_absolute() ? path : repository / path;
}

bool is_slipway_hook(const fs::path& hook) {
  auto text = read_file(hook);
  return text && text->find(kHookMarker) != std::string::npos;
}

// Moves a foreign hook aside when --chain allows it; an error when it would be lost.
Status keep_existing_hook(const fs::path& hook, bool chain) {
  if (!fs::exists(hook) || is_slipway_hook(hook)) return {};
  fs::path chained = hook.parent_path() / kChainedHookName;
  if (!chain) {
    return make_error(fmt::format("{} already exists and is not Slipway's: run again with --chain to keep it "
                                  "(it moves to {} and runs first)", hook.string(), chained.filename().string()));
  }
  if (fs::exists(chained)) {
    return make_error(fmt::format("{} already exists too: merge the two hooks by hand, then run again",
                                  chained.string()));
  }
  std::error_code error;
  fs::rename(hook, chained, error);
  if (error) return make_error(fmt::format("cannot move {} aside: {}", hook.string(), error.message()));
  return {};
}

// The token is kept beside the hook, readable by its owner only, so that it is not in the
// script nor in curl's argv (other users see argv in ps).
Status write_token_file(const fs::path& hooks) {
  const char* token = std::getenv("SLIPWAY_TOKEN");
  if (!token || !*token) return {};
  fs::path file = hooks / kHookTokenFileName;
  if (Status written = write_file_atomically(file, token); !written) return written;
  if (::chmod(file.c_str(), 0600) != 0) return make_error(fmt::format("cannot chmod {}: {}", file.string(), errno_text(errno)));
  return {};
}

std::string default_repository_name(const fs::path& repository) {
  std::string name = fs::absolute(repository).lexically_normal().filename().string();
  if (name.empty()) name = fs::absolute(repository).lexically_normal().parent_path().filename().string();
  if (ends_with(name, ".git")) name.resize(name.size() - 4);
  return name;
}

int install_hook(const HookOptions& options) {
  auto fail = [](const std::string& message) { return command_failed("hook install", message); };
  fs::path repository(options.repository_path);
  auto hooks = bare_hooks_directory(repository);
  if (!hooks) return fail(hooks.error().message);
  std::string name = options.repository.empty() ? default_repository_name(repository) : options.repository;
  ApiClient client(server_from_environment(options.server));  // normalises the URL
  fs::path hook = *hooks / "post-receive";
  if (Status made = make_directories(*hooks); !made) return fail(made.error().message);
  if (Status kept = keep_existing_hook(hook, options.chain); !kept) return fail(kept.error().message);
  if (Status written = write_file_atomically(hook, post_receive_script(client.server(), name)); !written) {
    return fail(written.error().message);
  }
  if (::chmod(hook.c_str(), 0755) != 0) return fail(fmt::format("cannot chmod {}: {}", hook.string(), errno_text(errno)));
  if (Status token = write_token_file(*hooks); !token) return fail(token.error().message);
  std::cout << fmt::format("Installed {}: each push notifies {} as repository '{}'.\n", hook.string(),
                           client.server(), name);
  if (!std::getenv("SLIPWAY_TOKEN")) {
    std::cout << "No $SLIPWAY_TOKEN was set: the hook uses the pusher's $SLIPWAY_TOKEN (a deployer token).\n";
  }
  return kExitSuccess;
}

}  // namespace

void add_hook_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<HookOptions>();
  CLI::App* hook = app.add_subcommand("hook", "Git hooks that tell the server about pushes");
  hook->require_subcommand(1);
  CLI::App* install = hook->add_subcommand("install", "Add a post-receive hook to a bare repository");
  install->add_option("repository_path", options->repository_path, "The bare repository")->required();
  install->add_option("--server", options->server, "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  install->add_option("--repository", options->repository,
                      "The repository's name in the server configuration (default: the folder's name without .git)");
  install->add_flag("--chain", options->chain, "Keep an existing post-receive hook: it runs first, then Slipway's");
  install->callback([options, &exit_code] { exit_code = install_hook(*options); });
}

}  // namespace slipway
