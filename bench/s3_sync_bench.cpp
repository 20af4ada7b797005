// The S3 figure: syncing 1 000 DAG files of which 10 changed uploads only those 10, timed
// beside `aws s3 sync --delete` of the same tree in the same run.
//
// One s3rver on 127.0.0.1 (tests/support/s3rver_fixture.h; quiet, signatures checked), one
// folder of DAG files (~2 KiB of Python each, in 20 sub-folders). Slipway syncs it to
// s3://bench/slipway/ and the AWS CLI to s3://bench/aws/. Both first sync everything; then, per
// round, 10 files change (a different 10 each round, each a little longer, as an edit makes
// them), and each tool syncs the same changed tree to its own prefix. The figures are the
// medians over the rounds, with the uploads each tool reported — both must be exactly 10, or the
// benchmark fails. A round with no change and `aws --version` alone are timed too, to show
// what is fixed cost (the CLI's Python start-up) and what is work.
//
// Environment (defaults in brackets):
//   SLIPWAY_S3_BENCH_FILES    DAG files [1000]
//   SLIPWAY_S3_BENCH_CHANGED  files changed per round [10]
//   SLIPWAY_S3_BENCH_ROUNDS   timed rounds [5]
// Only 127.0.0.1 traffic; s3rver is stopped by its PID at the end, also on failure.
// Exit status: 0 when both tools uploaded exactly the changed files every round, 1 otherwise,
// 2 on a setup error.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "../tests/support/s3rver_fixture.h"
#include "base/files.h"
#include "base/strings.h"
#include "publish/s3_client.h"
#include "publish/s3_sync.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using testing::S3rverProcess;
using testing::S3rverSettings;

constexpr const char* kBucket = "bench";

int setting(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::max(1, std::atoi(value)) : fallback;
}

fs::path dag_path(const fs::path& root, int index) {
  return root / fmt::format("team_{:02}", index % 20) / fmt::format("dag_{:04}.py", index);
}

// ~2 KiB of plausible Airflow DAG text; `revision` changes its content and length.
std::string dag_text(int index, int revision) {
  std::string text = fmt::format("# dag {} revision {}\nfrom airflow import DAG\n\nwith DAG('dag_{:04}') as dag:\n",
                                 index, revision, index);
  for (int task = 0; text.size() < 2000; ++task) {
    text += fmt::format("    task_{} = BashOperator(task_id='task_{}', bash_command='run --step {} --dag {}')\n", task,
                        task, task, index);
  }
  return text + std::string(static_cast<size_t>(revision), '#') + "\n";
}

void write_dag(const fs::path& root, int index, int revision) {
  fs::path path = dag_path(root, index);
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << dag_text(index, revision);
}

struct Timed {
  double ms = 0;
  int uploaded = -1;
  std::string error;
};

double since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

Timed slipway_sync(S3Client& client, const fs::path& root) {
  auto start = SteadyClock::now();
  auto summary = sync_directory(client, root, kBucket, "slipway/");
  Timed timed{since(start)};
  if (summary) timed.uploaded = summary->uploaded;
  else timed.error = summary.error().message;
  return timed;
}

Timed aws_sync(const S3rverProcess& s3rver, const fs::path& root) {
  auto start = SteadyClock::now();
  CommandOutput output =
      s3rver.aws({"s3", "sync", root.string(), std::string("s3://") + kBucket + "/aws/", "--delete", "--no-progress"});
  Timed timed{since(start)};
  if (output.exit_code != 0) {
    timed.error = "aws s3 sync failed: " + output.err;
    return timed;
  }
  timed.uploaded = 0;
  for (const std::string& line : split(output.out, '\n')) timed.uploaded += starts_with(line, "upload:") ? 1 : 0;
  return timed;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double median_ms(const std::vector<Timed>& runs) {
  std::vector<double> times;
  for (const Timed& run : runs) times.push_back(run.ms);
  return median(times);
}

void print_row(const std::string& name, const std::vector<Timed>& runs) {
  std::vector<double> times;
  int low = 1 << 30, high = -1;
  for (const Timed& run : runs) {
    times.push_back(run.ms);
    low = std::min(low, run.uploaded);
    high = std::max(high, run.uploaded);
  }
  std::string uploaded = low == high ? std::to_string(low) : fmt::format("{}-{}", low, high);
  fmt::print("  {:<34} {:>9} {:>10.1f} {:>10.1f} {:>10.1f}\n", name, uploaded, median(times),
             *std::min_element(times.begin(), times.end()), *std::max_element(times.begin(), times.end()));
}

int run() {
  const int files = setting("SLIPWAY_S3_BENCH_FILES", 1000);
  const int changed = std::min(files, setting("SLIPWAY_S3_BENCH_CHANGED", 10));
  const int rounds = setting("SLIPWAY_S3_BENCH_ROUNDS", 5);

  S3rverProcess s3rver(S3rverSettings{.buckets = {kBucket}, .quiet = true});
  if (!s3rver.running()) {
    fmt::print(stderr, "s3_sync_bench: {}\n", s3rver.error());
    return 2;
  }
  S3Options options;
  options.endpoint = s3rver.endpoint();
  options.access_key = S3rverProcess::kAccessKey;
  options.secret_key = S3rverProcess::kSecretKey;
  auto client = S3Client::create(options);
  if (!client) {
    fmt::print(stderr, "s3_sync_bench: {}\n", client.error().message);
    return 2;
  }
  TemporaryDirectory work("slipway-s3-bench");
  fs::path root = work.path() / "dags";
  for (int i = 0; i < files; ++i) write_dag(root, i, 0);

  Timed slipway_first = slipway_sync(**client, root);
  Timed aws_first = aws_sync(s3rver, root);
  for (const Timed* first : {&slipway_first, &aws_first}) {
    if (!first->error.empty()) {
      fmt::print(stderr, "s3_sync_bench: first sync: {}\n", first->error);
      return 2;
    }
  }

  std::vector<Timed> slipway_changed, aws_changed, slipway_same, aws_same, aws_start;
  bool exact = slipway_first.uploaded == files && aws_first.uploaded == files;
  for (int round = 0; round < rounds; ++round) {
    // aws s3 sync compares size and modification time: the edit makes both differ, as a real one.
    for (int k = 0; k < changed; ++k) write_dag(root, (round * changed + k) * 7919 % files, round + 1);
    slipway_changed.push_back(slipway_sync(**client, root));
    aws_changed.push_back(aws_sync(s3rver, root));
    slipway_same.push_back(slipway_sync(**client, root));
    aws_same.push_back(aws_sync(s3rver, root));
    auto start = SteadyClock::now();
    s3rver.aws({"--version"});
    aws_start.push_back(Timed{since(start), 0});
    for (const auto* runs : {&slipway_changed, &aws_changed, &slipway_same, &aws_same}) {
      if (!runs->back().error.empty()) {
        fmt::print(stderr, "s3_sync_bench: round {}: {}\n", round + 1, runs->back().error);
        return 2;
      }
    }
    exact = exact && slipway_changed.back().uploaded == changed && aws_changed.back().uploaded == changed &&
            slipway_same.back().uploaded == 0 && aws_same.back().uploaded == 0;
  }

  fmt::print("S3 sync: {} DAG files (~2 KiB each) to s3rver on 127.0.0.1, {} changed per round, {} rounds\n", files,
             changed, rounds);
  fmt::print("  {:<34} {:>9} {:>10} {:>10} {:>10}\n", "", "uploaded", "median ms", "min ms", "max ms");
  print_row(fmt::format("slipway sync, {} changed", changed), slipway_changed);
  print_row(fmt::format("aws s3 sync --delete, {} changed", changed), aws_changed);
  print_row("slipway sync, nothing changed", slipway_same);
  print_row("aws s3 sync --delete, no change", aws_same);
  print_row("aws --version (CLI start-up)", aws_start);
  fmt::print("  first sync of all {} files: slipway {:.0f} ms, aws s3 sync {:.0f} ms\n", files, slipway_first.ms,
             aws_first.ms);
  double ratio = median_ms(aws_changed) / median_ms(slipway_changed);
  fmt::print("  slipway is {:.1f}x faster than aws s3 sync with {} changed files\n", ratio, changed);
  fmt::print("  uploads exactly the changed files, both tools, every round: {}\n", exact ? "yes" : "NO");
  return exact ? 0 : 1;
}

}  // namespace
}  // namespace slipway

int main() { return slipway::run(); }
