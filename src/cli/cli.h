// The `slipway` command line: parses arguments, calls one layer below, formats the answer.
// Returns the process exit status: 0 success, 1 the work failed (a test, a validation),
// 2 bad usage or input Slipway could not act on.
#pragma once

namespace slipway {

int run_cli(int argc, char** argv);

}  // namespace slipway
