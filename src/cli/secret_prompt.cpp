#include "cli/secret_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "base/files.h"
#include "cli/secret_file.h"

namespace slipway {
namespace {

// The terminal's settings while echo is off, for the signal handler to put back: Ctrl-C at the
// prompt must not leave the user's shell without echo.
struct termios saved_terminal;
volatile std::sig_atomic_t echo_is_off = 0;

extern "C" void restore_echo_and_reraise(int signal_number) {
  if (echo_is_off) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

Result<std::string> read_line_without_echo(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  bool hidden = ::tcgetattr(STDIN_FILENO, &saved_terminal) == 0;
  if (hidden) {
    struct termios quiet = saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    std::signal(SIGINT, restore_echo_and_reraise);
    std::signal(SIGTERM, restore_echo_and_reraise);
    echo_is_off = 1;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool read = static_cast<bool>(std::getline(std::cin, line));
  if (hidden) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    echo_is_off = 0;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  if (!read && !std::cin.eof()) return make_error("cannot read the value from the terminal");
  return without_one_trailing_newline(line);  // a "\r" left by a terminal in raw-ish mode
}

}  // namespace

Result<std::string> read_secret_value(std::string_view prompt) {
  if (::isatty(STDIN_FILENO)) return read_line_without_echo(prompt);
  std::cin >> std::noskipws;
  std::string all(std::istreambuf_iterator<char>(std::cin), {});
  if (std::cin.bad()) return make_error("cannot read the value from standard input: " + errno_text(errno));
  return without_one_trailing_newline(std::move(all));
}

}  // namespace slipway
