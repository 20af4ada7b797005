// The queue target: 1 000 no-op runs queued (a repository whose Test is one suite
// running `true`), runs completed per second. Every run here includes a clean checkout of the
// commit, its .slipway.yml, a step with its log, the report files and the store records. The
// comparison with Laminar, through both servers' APIs in one run, is bench/peers.sh.
//
// The runs go straight into a RunQueue (the API's enqueue is one call on top). Environment:
//   SLIPWAY_QUEUE_BENCH_RUNS         how many runs (default 1000)
//   SLIPWAY_QUEUE_BENCH_EXECUTOR     host | sandbox (default sandbox, the server's default)
//   SLIPWAY_QUEUE_BENCH_CONCURRENCY  runs at once (default 0: the number of cores)
#include <chrono>
#include <cstdlib>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "ci/run_queue.h"
#include "store/store.h"

namespace slipway {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string setting(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

// A one-commit repository whose Test is one suite running `true`. Returns the commit's sha.
std::string make_noop_repository(const std::filesystem::path& folder) {
  auto git = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"git", "-C", folder.string(), "-c", "user.name=Bench",
                                         "-c", "user.email=bench@slipway.invalid"});
    auto output = run_command_checked(arguments);
    if (!output) throw std::runtime_error(output.error().message);
    return std::string(trim(*output));
  };
  std::filesystem::create_directories(folder);
  git({"init", "--quiet", "--initial-branch=main"});
  if (!write_file_atomically(folder / ".slipway.yml",
                             "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n")) {
    throw std::runtime_error("cannot write .slipway.yml");
  }
  git({"add", "-A"});
  git({"commit", "--quiet", "-m", "no-op"});
  return git({"rev-parse", "HEAD"});
}

int64_t count_finished(Store& store) {
  int64_t finished = 0;
  for (RunStatus status : {RunStatus::passed, RunStatus::failed, RunStatus::cancelled}) {
    auto count = store.count_runs({.status = status, .limit = 0});
    if (count) finished += *count;
  }
  return finished;
}

void BM_QueueThroughput(benchmark::State& state) {
  const int runs = std::stoi(setting("SLIPWAY_QUEUE_BENCH_RUNS", "1000"));
  TemporaryDirectory scratch("slipway-queue-bench");
  std::string commit = make_noop_repository(scratch.path() / "repo");
  ServerConfig config;
  config.executor = setting("SLIPWAY_QUEUE_BENCH_EXECUTOR", "sandbox");
  config.concurrency = std::stoi(setting("SLIPWAY_QUEUE_BENCH_CONCURRENCY", "0"));
  config.repositories.push_back({"noop", (scratch.path() / "repo").string(), "main", Milliseconds(0), ""});
  DataDirectory data{scratch.path() / "data"};
  RunQueue queue(data, config);
  if (Status started = queue.start(); !started) {
    state.SkipWithError(started.error().message.c_str());
    return;
  }
  auto store = Store::open(data.database());
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }

  for (auto _ : state) {
    const auto begin = SteadyClock::now();
    for (int i = 0; i < runs; ++i) {
      auto id = queue.enqueue(TriggerRequest{"noop", commit, "main", "manual", {}});
      if (!id) {
        state.SkipWithError(id.error().message.c_str());
        return;
      }
    }
    const auto queued = SteadyClock::now();
    while (count_finished(**store) < runs) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto done = SteadyClock::now();

    auto seconds = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
    auto passed = (*store)->count_runs({.status = RunStatus::passed, .limit = 0});
    state.counters["runs_per_second"] = runs / seconds(begin, done);
    state.counters["enqueued_per_second"] = runs / seconds(begin, queued);
    state.counters["passed"] = passed ? static_cast<double>(*passed) : 0;
    fmt::print("{} no-op runs ({} executor, {} at once): {:.1f} runs completed per second "
               "(queued at {:.0f}/s); beside Laminar: bench/peers.sh\n",
               runs, config.executor, queue.stats().concurrency, runs / seconds(begin, done),
               runs / seconds(begin, queued));
  }
  queue.stop();
}

}  // namespace

BENCHMARK(BM_QueueThroughput)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace slipway

BENCHMARK_MAIN();
