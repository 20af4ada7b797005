// Terminal conventions for every command: colour only when the stream is a TTY (and NO_COLOR is
// unset), and a few named styles so commands don't scatter escape codes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "store/run_status.h"

namespace slipway {

enum class Style { plain, bold, dim, red, green, yellow, cyan };

bool stream_is_terminal(FILE* stream);

// Wraps `text` in the style's ANSI codes when `colour` is true; returns it unchanged otherwise.
std::string styled(std::string_view text, Style style, bool colour);

// The colour for a run's, job's or step's status (passed green, failed red...).
Style status_style(RunStatus status);

}  // namespace slipway
