// DeploymentLane: one application in one environment, internal to the deployment controller.
// A lane owns the thread its deployments run on, one at a time, and the router in front of them
// (made by the controller's router factory, started — or adopted after a restart — when the
// lane first needs it). What it shares with the controller (the store's path, the options, one
// mutex and condition variable, the stopping flag) is handed in as LaneServices; the fields
// marked "under the mutex" are read and written only while holding it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "cd/deployment_controller.h"
#include "cd/traffic_router.h"
#include "store/store.h"

namespace slipway {

struct LaneServices {
  const DeploymentControllerOptions& options;
  std::mutex& mutex;
  std::condition_variable& changed;     // notified when a lane turns idle; lanes wait on it for work
  const std::atomic<bool>& stopping;
};

class DeploymentLane {
 public:
  // Starts the lane's thread, which resumes whatever is active for this pair and then waits.
  DeploymentLane(std::string application, std::string environment, LaneServices services);
  // Joins the thread: call after `stopping` was set and the lane interrupted, without the mutex.
  ~DeploymentLane();
  DeploymentLane(const DeploymentLane&) = delete;
  DeploymentLane& operator=(const DeploymentLane&) = delete;

  // Under the mutex: something new is queued; the caller notifies `changed`.
  void wake() { wake_ = true; }
  // Under the mutex: no deployment is active and nothing new is queued.
  bool idle() const { return idle_ && !wake_; }
  // Stops the deployment in progress at its next check (the server stops).
  void interrupt() { interrupt_ = true; }
  // Under the mutex: `newest_id` was just queued. Queued older ones end superseded at once; one
  // in progress is told to stop before its switch (never after).
  void supersede_older(Store& store, int64_t newest_id);

 private:
  void run();
  void resume_router(Store& store);
  // The router, started (or adopted) and pointed at the live version when it was started afresh.
  Status prepare_router(Store& store, const ApplicationTarget& target);
  // Drives the oldest active deployment; false when the lane should wait for work instead.
  bool drive_next(Store& store);

  const std::string application_;
  const std::string environment_;
  LaneServices services_;
  std::atomic<bool> interrupt_{false};
  std::atomic<bool> superseded_{false};
  bool idle_ = false;           // under the mutex
  bool wake_ = false;           // under the mutex
  int64_t newest_id_ = 0;       // under the mutex: older deployments are superseded by it
  std::unique_ptr<TrafficRouter> router_;  // the lane's thread only
  std::thread thread_;          // last: started once everything above is set
};

}  // namespace slipway
