#include "server/disk_usage.h"

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"

namespace slipway {

// One walk: each top-level entry is measured once, into its area and the total.
DiskUsage measure_disk_usage(const DataDirectory& data) {
  DiskUsage usage;
  std::string database = data.database().filename().string();
  std::error_code error;
  for (std::filesystem::directory_iterator entry(data.root, error), end; !error && entry != end; entry.increment(error)) {
    std::error_code ignored;
    std::string name = entry->path().filename().string();
    uint64_t bytes = entry->is_directory(ignored) ? folder_bytes(entry->path())
                     : entry->is_regular_file(ignored) ? entry->file_size(ignored) : 0;
    if (name == "runs") usage.runs = bytes;
    else if (name == "task-runs") usage.task_runs = bytes;
    else if (name == "mirrors") usage.mirrors = bytes;
    else if (name == "templates") usage.templates = bytes;
    else if (name.starts_with(database)) usage.database += bytes;  // with its -wal and -shm
    usage.total += bytes;
  }
  usage.measured_ms = now_ms();
  return usage;
}

std::string describe_disk_usage(const DiskUsage& usage) {
  return fmt::format("data {}: runs {}, task runs {}, mirrors {}, workspace templates {}, database {}",
                     format_byte_size(usage.total), format_byte_size(usage.runs), format_byte_size(usage.task_runs),
                     format_byte_size(usage.mirrors), format_byte_size(usage.templates), format_byte_size(usage.database));
}

std::string disk_usage_metrics(const DiskUsage& usage) {
  if (usage.measured_ms == 0) return "";
  std::string out =
      "# HELP slipway_disk_bytes The data directory's size on disk, by area (measured at start and after each "
      "retention pass).\n# TYPE slipway_disk_bytes gauge\n";
  for (auto [area, bytes] : {std::pair{"runs", usage.runs}, {"task_runs", usage.task_runs}, {"mirrors", usage.mirrors},
                             {"templates", usage.templates},
                             {"database", usage.database}, {"total", usage.total}}) {
    out += fmt::format("slipway_disk_bytes{{area=\"{}\"}} {}\n", area, bytes);
  }
  out += fmt::format("slipway_disk_measured_seconds {}\n", usage.measured_ms / 1000);
  return out;
}

}  // namespace slipway
