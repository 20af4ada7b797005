// BackgroundStep: a step started with Executor::start() (a test service). A pump thread runs
// its StepSupervisor until the process ends or stop() asks it to; stop() and the destructor
// stop the whole tree (SIGTERM, grace, SIGKILL) and join the thread.
#pragma once

#include <memory>
#include <mutex>
#include <thread>

#include "ci/executor.h"
#include "ci/step_supervisor.h"

namespace slipway {

class BackgroundStep : public BackgroundProcess {
 public:
  // Starts the pump thread; `sink` must outlive this object.
  BackgroundStep(std::unique_ptr<StepSupervisor> supervisor, OutputSink& sink, StopRules rules);
  ~BackgroundStep() override;

  bool running() override;
  void stop(Milliseconds grace) override;

 private:
  std::unique_ptr<StepSupervisor> supervisor_;
  Milliseconds default_grace_;
  std::mutex stop_mutex_;  // two threads may call stop(); only one may join
  std::thread pump_;
};

// launch() and hand the step to a BackgroundStep.
Result<std::unique_ptr<BackgroundProcess>> start_step(LaunchPlan plan, OutputSink& sink,
                                                      const StopRules& rules);

}  // namespace slipway
