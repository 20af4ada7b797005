// RunsSource: where `slipway runs` reads the history from — this machine's data directory, or a
// running server's API — so that one set of tables and views serves both.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "ci/step_log.h"
#include "store/artifacts.h"
#include "store/store.h"

namespace slipway {

class ApiClient;

struct JobDetail {
  JobRecord job;
  std::vector<StepRecord> steps;   // by position
};

struct RunDetail {
  RunRecord run;
  std::vector<JobDetail> jobs;
  std::vector<SuiteResultRecord> suites;
  std::vector<ArtifactRecord> artifacts;   // what the publish jobs produced, oldest first
};

class RunsSource {
 public:
  virtual ~RunsSource() = default;
  virtual Result<std::vector<RunRecord>> list(const RunFilter& filter) = 0;
  // Error "no run #N ..." when there is none.
  virtual Result<RunDetail> detail(int64_t run_id) = 0;
  // False for a step that never started (nothing was written).
  virtual bool has_log(const StepRecord& step) const = 0;
  // Each line of the step's log in order until `visit` returns false. `follow`: then keep
  // waiting for new lines until the step finishes.
  virtual Status read_log(const StepRecord& step, bool follow, const std::function<bool(const LogLine&)>& visit) = 0;
};

// This machine's history (the store and log files under `data_dir`). Error when unreadable.
Result<std::unique_ptr<RunsSource>> local_runs_source(const std::filesystem::path& data_dir);
// A server's history through its API; errors surface on the first request.
std::unique_ptr<RunsSource> server_runs_source(const std::string& server);

}  // namespace slipway
