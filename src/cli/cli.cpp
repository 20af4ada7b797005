#include "cli/cli.h"

#include <CLI/CLI.hpp>

namespace slipway {

int run_cli(int argc, char** argv) {
  CLI::App app{"Slipway: CI/CD from commit to deployed version"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace slipway
