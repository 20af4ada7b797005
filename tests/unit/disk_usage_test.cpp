// DiskUsage: the data directory measured by area, in words for the start-up line and as gauges
// for /metrics (none before the first measure).
#include "server/disk_usage.h"

#include <gtest/gtest.h>

#include "base/files.h"

namespace slipway {
namespace {

TEST(DiskUsage, EachAreaIsMeasuredAndTheTotalHoldsThemAll) {
  TemporaryDirectory root;
  DataDirectory data{root.path()};
  std::filesystem::create_directories(root.path() / "runs/1/logs");
  std::filesystem::create_directories(root.path() / "mirrors/web.git");
  ASSERT_TRUE(write_file_atomically(root.path() / "runs/1/logs/000001.log", std::string(3000, 'l')));
  ASSERT_TRUE(write_file_atomically(root.path() / "mirrors/web.git/pack", std::string(5000, 'p')));
  ASSERT_TRUE(write_file_atomically(data.database(), std::string(700, 'd')));
  ASSERT_TRUE(write_file_atomically(root.path() / "master.key", std::string(44, 'k')));
  DiskUsage usage = measure_disk_usage(data);
  EXPECT_EQ(usage.runs, 3000u);
  EXPECT_EQ(usage.mirrors, 5000u);
  EXPECT_EQ(usage.task_runs, 0u) << "no task-runs folder: nothing";
  EXPECT_EQ(usage.database, 700u);
  EXPECT_EQ(usage.total, 3000u + 5000u + 700u + 44u);
  EXPECT_GT(usage.measured_ms, 0);
  EXPECT_EQ(describe_disk_usage(usage).substr(0, 5), "data ");
  std::string metrics = disk_usage_metrics(usage);
  EXPECT_NE(metrics.find("slipway_disk_bytes{area=\"mirrors\"} 5000\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("slipway_disk_bytes{area=\"total\"} 8744\n"), std::string::npos) << metrics;
  EXPECT_EQ(disk_usage_metrics(DiskUsage{}), "") << "never measured: no gauge rather than a false 0";
}

}  // namespace
}  // namespace slipway
