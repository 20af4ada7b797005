#include "cli/terminal.h"

#include <unistd.h>

#include <cstdlib>

namespace slipway {

bool stream_is_terminal(FILE* stream) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour && *no_colour) return false;
  return ::isatty(fileno(stream)) == 1;
}

std::string styled(std::string_view text, Style style, bool colour) {
  if (!colour || style == Style::plain) return std::string(text);
  const char* code = "";
  switch (style) {
    case Style::bold: code = "1"; break;
    case Style::dim: code = "2"; break;
    case Style::red: code = "31"; break;
    case Style::green: code = "32"; break;
    case Style::yellow: code = "33"; break;
    case Style::cyan: code = "36"; break;
    case Style::plain: break;
  }
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

Style status_style(RunStatus status) {
  switch (status) {
    case RunStatus::passed: return Style::green;
    case RunStatus::failed: return Style::red;
    case RunStatus::running:
    case RunStatus::queued: return Style::cyan;
    default: return Style::yellow;
  }
}

}  // namespace slipway
