#include "store/image_references.h"

#include "store/store_impl.h"

namespace slipway {
namespace {

constexpr const char* kNamed[] = {
    "SELECT DISTINCT image FROM deployments WHERE image != ''",
    "SELECT DISTINCT image || '@' || digest FROM task_revisions WHERE digest != ''",
};

constexpr const char* kNeeded[] = {
    "SELECT DISTINCT image FROM deployments WHERE image != '' AND "
    "(outcome = '' OR container_state IN ('running', 'stopped'))",
    "SELECT DISTINCT image || '@' || digest FROM task_revisions WHERE digest != '' AND status IN ('active', 'inactive')",
    "SELECT DISTINCT r.image || '@' || r.digest FROM task_runs AS t JOIN task_revisions AS r ON r.id = t.revision_id "
    "WHERE r.digest != '' AND t.status IN ('queued', 'running')",
};

}  // namespace

Result<ImageReferences> image_references(Store& store) {
  ImageReferences references;
  auto collect = [&](const char* sql, std::set<std::string>& into) {
    return store.database().stmt(sql).each([&](const Row& row) { into.insert(row.text(0)); });
  };
  for (const char* sql : kNamed) {
    if (Status read = collect(sql, references.named); !read) return store_error("image_references", read.error().message);
  }
  for (const char* sql : kNeeded) {
    if (Status read = collect(sql, references.needed); !read) return store_error("image_references", read.error().message);
  }
  return references;
}

}  // namespace slipway
