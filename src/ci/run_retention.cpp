#include "ci/run_retention.h"

#include <charconv>
#include <system_error>

#include <fmt/core.h>

#include "base/files.h"
#include "base/time.h"
#include "store/run_retention.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr int kPageSize = 500;  // expired runs read per query, so memory stays flat

// Removes `folder` (absent is fine); a failure is recorded, not fatal: the next pass retries.
void remove_folder(const fs::path& folder, PruneReport& report) {
  std::error_code error;
  fs::remove_all(folder, error);
  if (error) report.problems.push_back(fmt::format("{}: cannot remove it: {}", folder.string(), error.message()));
}

Status prune_repository(Store& store, const DataDirectory& data, const std::string& repository,
                        const RetentionConfig& retention, const PruneOptions& options, PruneReport& report) {
  int64_t before_ms = options.now_ms - retention.max_age.count();
  for (int64_t after_id = 0;;) {
    auto page = expired_runs(store, repository, retention.keep_last, before_ms, after_id, kPageSize);
    if (!page) return page.error();
    for (RunRecord& run : *page) {
      after_id = run.id;
      uint64_t bytes = folder_bytes(data.run_dir(run.id));
      if (!options.dry_run) {
        if (Status deleted = store.delete_run(run.id); !deleted) return deleted;
        remove_folder(data.run_dir(run.id), report);
      }
      report.bytes += bytes;
      report.runs.push_back({std::move(run), bytes});
    }
    if (page->size() < static_cast<size_t>(kPageSize)) return {};
  }
}

// runs/<id> folders whose run has no record.
Status prune_leftovers(Store& store, const DataDirectory& data, const PruneOptions& options, PruneReport& report) {
  std::error_code error;
  for (fs::directory_iterator it(data.root / "runs", error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    int64_t id = 0;
    auto [stop, parsed] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (parsed != std::errc() || stop != name.data() + name.size() || id <= 0) continue;  // not ours
    auto run = store.find_run(id);
    if (!run) return run.error();
    if (*run) continue;
    report.bytes += folder_bytes(it->path());
    report.leftovers.push_back(it->path());
    if (!options.dry_run) remove_folder(it->path(), report);
  }
  return {};
}

}  // namespace

Result<PruneReport> prune_runs(Store& store, const DataDirectory& data, const ServerConfig& config,
                               const PruneOptions& given) {
  PruneOptions options = given;
  if (options.now_ms == 0) options.now_ms = now_ms();
  PruneReport report;
  auto repositories = run_repositories(store);
  if (!repositories) return repositories.error();
  for (const std::string& repository : *repositories) {
    Status pruned = prune_repository(store, data, repository, config.retention_for(repository), options, report);
    if (!pruned) return pruned.error();
  }
  if (Status swept = prune_leftovers(store, data, options, report); !swept) return swept.error();
  return report;
}

}  // namespace slipway
