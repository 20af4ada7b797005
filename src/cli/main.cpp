#include "cli/cli.h"

int main(int argc, char** argv) { return slipway::run_cli(argc, argv); }
