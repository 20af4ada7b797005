// How `slipway secret set` takes a value: from standard input, never from the command line (argv
// is visible to every user in `ps` and kept in shell histories). Piped: all of it, minus ONE
// trailing newline. On a terminal: one line typed after a prompt, without echo.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

// `prompt` is written to stderr, and only when stdin is a terminal. An Error when stdin cannot be
// read; an empty value is returned as it is (the caller refuses it with its own words).
Result<std::string> read_secret_value(std::string_view prompt);

}  // namespace slipway
