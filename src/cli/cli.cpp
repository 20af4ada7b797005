#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "base/process_environment.h"
#include "cli/commands.h"
#include "server/auth.h"
#include "store/master_key.h"

namespace slipway {

int run_cli(int argc, char** argv) {
  CLI::App app{"Slipway: carries a repository from a commit to a tested, published, deployed version.\n"
               "Run `slipway COMMAND --help` for the options of each command."};
  app.name("slipway");
  app.set_version_flag("--version", "slipway 0.1.0");
  app.require_subcommand(1);
  GlobalOptions global;
  // First, before any thread or helper program starts: the server's own secrets leave the
  // environment, so that no git, haproxy, docker, curl, slirp4netns or step ever inherits them.
  global.master_key_variable = take_environment_variable(kMasterKeyVariable);
  global.admin_token_variable = take_environment_variable(kAdminTokenVariable);
  app.add_option("--data-dir", global.data_dir,
                 "Where runs are kept (default: $SLIPWAY_DATA_DIR, else ~/.local/share/slipway)");
  int exit_code = kExitSuccess;
  add_run_command(app, global, exit_code);
  add_validate_command(app, exit_code);
  add_runs_command(app, global, exit_code);
  add_serve_command(app, global, exit_code);
  add_token_command(app, global, exit_code);
  add_trigger_command(app, exit_code);
  add_repo_command(app, exit_code);
  add_notify_command(app, exit_code);
  add_hook_command(app, exit_code);
  add_secret_command(app, global, exit_code);
  add_deploy_command(app, exit_code);
  add_task_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int status = app.exit(error);
    return status == 0 ? kExitSuccess : kExitBadInput;
  }
  return exit_code;
}

}  // namespace slipway
