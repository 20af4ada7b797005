// LivePrinter: shows a run as it happens — each step's start, every log line prefixed with the
// step's name, each step's end with its result. Lines are already masked by the step log.
// Safe to call from several threads (a service's output arrives on its own thread).
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "ci/run_executor.h"

namespace slipway {

class LivePrinter : public RunObserver {
 public:
  LivePrinter(FILE* stream, bool colour);
  ~LivePrinter() override;

  void run_started(const RunRecord& run, const PlannedJob& job) override;
  LogListener* step_listener(size_t index, const PlannedStep& step) override;
  void step_started(size_t index, const PlannedStep& step) override;
  void step_finished(size_t index, const PlannedStep& step, const StepResult& result) override;

 private:
  class StepLines;
  void print(const std::string& text);           // a whole line, flushed at once
  void print_buffered(const std::string& text);  // a log line, flushed at the batch's end
  void flush();

  FILE* stream_;
  bool colour_;
  size_t name_width_ = 0;
  std::mutex mutex_;
  std::vector<std::unique_ptr<StepLines>> listeners_;
};

}  // namespace slipway
