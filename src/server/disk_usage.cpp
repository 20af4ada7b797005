#include "server/disk_usage.h"

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"

namespace slipway {

DiskUsage measure_disk_usage(const DataDirectory& data) {
  DiskUsage usage;
  usage.runs = folder_bytes(data.root / "runs");
  usage.task_runs = folder_bytes(data.root / "task-runs");
  usage.mirrors = folder_bytes(data.root / "mirrors");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code missing;
    uint64_t size = std::filesystem::file_size(data.database().string() + suffix, missing);
    if (!missing) usage.database += size;
  }
  usage.total = folder_bytes(data.root);
  usage.measured_ms = now_ms();
  return usage;
}

std::string describe_disk_usage(const DiskUsage& usage) {
  return fmt::format("data {}: runs {}, task runs {}, mirrors {}, database {}", format_byte_size(usage.total),
                     format_byte_size(usage.runs), format_byte_size(usage.task_runs), format_byte_size(usage.mirrors),
                     format_byte_size(usage.database));
}

std::string disk_usage_metrics(const DiskUsage& usage) {
  if (usage.measured_ms == 0) return "";
  std::string out =
      "# HELP slipway_disk_bytes The data directory's size on disk, by area (measured at start and after each "
      "retention pass).\n# TYPE slipway_disk_bytes gauge\n";
  for (auto [area, bytes] : {std::pair{"runs", usage.runs}, {"task_runs", usage.task_runs}, {"mirrors", usage.mirrors},
                             {"database", usage.database}, {"total", usage.total}}) {
    out += fmt::format("slipway_disk_bytes{{area=\"{}\"}} {}\n", area, bytes);
  }
  out += fmt::format("slipway_disk_measured_seconds {}\n", usage.measured_ms / 1000);
  return out;
}

}  // namespace slipway
