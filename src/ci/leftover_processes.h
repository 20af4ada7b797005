// Leftover step processes: what a killed server leaves running, found again after its restart.
//
// Every step's environment carries a marker (SLIPWAY_STEP_MARKER=..., see process_tree.h). A
// server scopes the markers of the steps it starts to its data directory, so that when it
// restarts it stops the leftovers of its own previous life and never the steps of another
// server (another data directory) on the same machine, nor those of a `slipway run` (unscoped).
//
// The scope is per thread: a RunQueue worker sets it once, and every step and service it starts
// from that thread carries it. Per thread rather than per process so that two queues in one
// process (tests) keep their steps apart.
#pragma once

#include <filesystem>
#include <string>

namespace slipway {

// A short, stable tag for a data directory: the same path gives the same tag in every process.
std::string marker_scope_for(const std::filesystem::path& data_root);

// Sets the calling thread's marker scope for its lifetime, then restores the previous one.
class StepMarkerScope {
 public:
  explicit StepMarkerScope(std::string scope);
  ~StepMarkerScope();
  StepMarkerScope(const StepMarkerScope&) = delete;
  StepMarkerScope& operator=(const StepMarkerScope&) = delete;

 private:
  std::string previous_;
};

// "SLIPWAY_STEP_MARKER=<scope>.<random>" under a scope, else make_step_marker()'s unscoped form.
std::string make_scoped_step_marker();

// Kills (SIGKILL) every process whose environment carries a marker of `scope`, with all their
// descendants, and waits for them to go (bounded). The caller's own process is spared. Returns
// how many processes were killed.
int stop_leftover_steps(const std::string& scope);

}  // namespace slipway
