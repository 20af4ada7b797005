// stop_child: how the test fixtures end a server they started — SIGTERM, up to 5 s for it to
// exit, then SIGKILL — always reaping it, so no fixture leaves a process or a zombie behind.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

namespace slipway::testing {

// `pid` becomes 0. Nothing happens when it is already 0 or negative.
inline void stop_child(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = 0;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  pid = 0;
}

}  // namespace slipway::testing
