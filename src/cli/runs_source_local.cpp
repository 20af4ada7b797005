// The local RunsSource: the store and the step log files of a data directory.
#include <fmt/core.h>

#include "cli/runs_source.h"

namespace slipway {
namespace {

class LocalRunsSource : public RunsSource {
 public:
  explicit LocalRunsSource(std::unique_ptr<Store> store) : store_(std::move(store)) {}

  Result<std::vector<RunRecord>> list(const RunFilter& filter) override { return store_->list_runs(filter); }

  Result<RunDetail> detail(int64_t run_id) override {
    auto run = store_->find_run(run_id);
    if (!run) return run.error();
    if (!*run) return make_error(fmt::format("no run #{} (see `slipway runs list`)", run_id));
    RunDetail detail{**run, {}, {}, {}};
    auto jobs = store_->jobs_of_run(run_id);
    if (!jobs) return jobs.error();
    for (const auto& job : *jobs) {
      auto steps = store_->steps_of_job(job.id);
      if (!steps) return steps.error();
      detail.jobs.push_back({job, std::move(*steps)});
    }
    auto suites = store_->suite_results_of_run(run_id);
    if (!suites) return suites.error();
    detail.suites = std::move(*suites);
    auto artifacts = artifacts_of_run(*store_, run_id);
    if (!artifacts) return artifacts.error();
    detail.artifacts = std::move(*artifacts);
    return detail;
  }

  bool has_log(const StepRecord& step) const override { return !step.log_dir.empty(); }

  Status read_log(const StepRecord& step, bool follow, const std::function<bool(const LogLine&)>& visit) override {
    if (follow) {
      return make_error("following a log needs a server: pass --server URL or set SLIPWAY_SERVER "
                        "(a local `slipway run` shows its log live already)");
    }
    return read_step_log(step.log_dir, visit);
  }

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace

Result<std::unique_ptr<RunsSource>> local_runs_source(const std::filesystem::path& data_dir) {
  auto store = Store::open(data_dir / "slipway.db");
  if (!store) return store.error();
  return std::unique_ptr<RunsSource>(std::make_unique<LocalRunsSource>(std::move(*store)));
}

}  // namespace slipway
