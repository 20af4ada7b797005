// WorkspaceGuard: owns a run's workspace folder and removes it when the guard goes, unless the
// run asked to keep it — so that no way out of a run, an error included, leaves a workspace
// behind. Movable: RunExecutor hands the guard out with the run's outcome, so the server's queue
// removes the workspace only after it has recorded the run's end (a forge status, the UI and
// chat learn the result without waiting for thousands of files to be deleted).
#pragma once

#include <filesystem>

namespace slipway {

class WorkspaceGuard {
 public:
  WorkspaceGuard() = default;
  WorkspaceGuard(std::filesystem::path folder, bool keep) : folder_(std::move(folder)), keep_(keep) {}
  ~WorkspaceGuard() { remove_now(); }
  WorkspaceGuard(WorkspaceGuard&& other) noexcept : folder_(std::move(other.folder_)), keep_(other.keep_) {
    other.folder_.clear();
  }
  WorkspaceGuard& operator=(WorkspaceGuard&& other) noexcept {
    if (this != &other) {
      remove_now();
      folder_ = std::move(other.folder_);
      keep_ = other.keep_;
      other.folder_.clear();
    }
    return *this;
  }
  WorkspaceGuard(const WorkspaceGuard&) = delete;
  WorkspaceGuard& operator=(const WorkspaceGuard&) = delete;

  // Removes the folder now (once). A folder that cannot be removed costs disk, not
  // correctness: the next start's recovery and retention find it again.
  void remove_now() {
    if (folder_.empty() || keep_) return;
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
    folder_.clear();
  }

 private:
  std::filesystem::path folder_;
  bool keep_ = false;
};

}  // namespace slipway
