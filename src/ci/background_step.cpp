#include "ci/background_step.h"

#include <utility>

namespace slipway {

BackgroundStep::BackgroundStep(std::unique_ptr<StepSupervisor> supervisor, OutputSink& sink,
                               StopRules rules)
    : supervisor_(std::move(supervisor)), default_grace_(rules.grace) {
  // Nobody reads a service's outcome: it ends because it was told to, or it failed and its
  // output says why.
  pump_ = std::thread([this, &sink, rules] { (void)supervisor_->supervise(sink, rules); });
}

BackgroundStep::~BackgroundStep() { stop(default_grace_); }

bool BackgroundStep::running() { return supervisor_->main_running(); }

void BackgroundStep::stop(Milliseconds grace) {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  supervisor_->request_stop(grace);
  if (pump_.joinable()) pump_.join();
}

Result<std::unique_ptr<BackgroundProcess>> start_step(LaunchPlan plan, OutputSink& sink,
                                                      const StopRules& rules) {
  Result<std::unique_ptr<StepSupervisor>> supervisor = StepSupervisor::launch(std::move(plan));
  if (!supervisor) return supervisor.error();
  return std::unique_ptr<BackgroundProcess>(
      new BackgroundStep(std::move(*supervisor), sink, rules));
}

}  // namespace slipway
