// WorkspaceGuard: owns a run's workspace folder and removes it when the guard goes, unless the
// run asked to keep it — so that no way out of a run, an error included, leaves a workspace
// behind. Movable: RunExecutor hands the guard out with the run's outcome, so the server's queue
// removes the workspace only after it has recorded the run's end (a forge status, the UI and
// chat learn the result without waiting for thousands of files to be deleted). A workspace
// mounted over a template (ci/workspace_template.h) is unmounted first, then its run's layers go.
#pragma once

#include <filesystem>

#include "ci/workspace_template.h"

namespace slipway {

class WorkspaceGuard {
 public:
  WorkspaceGuard() = default;
  WorkspaceGuard(std::filesystem::path folder, bool keep, std::filesystem::path layers = {})
      : folder_(std::move(folder)), layers_(std::move(layers)), keep_(keep) {}
  ~WorkspaceGuard() { remove_now(); }
  WorkspaceGuard(WorkspaceGuard&& other) noexcept
      : folder_(std::move(other.folder_)), layers_(std::move(other.layers_)), keep_(other.keep_) {
    other.folder_.clear();
    other.layers_.clear();
  }
  WorkspaceGuard& operator=(WorkspaceGuard&& other) noexcept {
    if (this != &other) {
      remove_now();
      folder_ = std::move(other.folder_);
      layers_ = std::move(other.layers_);
      keep_ = other.keep_;
      other.folder_.clear();
      other.layers_.clear();
    }
    return *this;
  }
  WorkspaceGuard(const WorkspaceGuard&) = delete;
  WorkspaceGuard& operator=(const WorkspaceGuard&) = delete;

  // Removes the folder now (once). A folder that cannot be removed costs disk, not
  // correctness: the next start's recovery and retention find it again.
  void remove_now() {
    if (folder_.empty() || keep_) return;
    unmount_workspace(folder_);  // before anything is deleted: never through the overlay
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
    if (!layers_.empty()) std::filesystem::remove_all(layers_, ignored);
    folder_.clear();
    layers_.clear();
  }

 private:
  std::filesystem::path folder_;
  std::filesystem::path layers_;  // the overlay's upper and work folders, when it is one
  bool keep_ = false;
};

}  // namespace slipway
