// The artifacts table: what each publish job produced (an image by digest, synced DAGs, a
// function zip, a version tag). A row is written only after the artifact is verified in its
// destination, so nothing half-pushed is ever listed as published.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct ArtifactRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t job_id = 0;
  std::string environment;
  std::string kind;        // "image", "dags", "function", "tag"
  std::string name;        // "127.0.0.1:5000/dev/hello-app:1a2b3c4d", "s3://b/dags/", "v1.2.3"
  std::string reference;   // "sha256:…", "s3://bucket/key", or the tagged commit
  std::string detail;      // human summary: "3 uploaded, 1 deleted, 996 unchanged"
  int64_t created_ms = 0;  // 0: now
};

Result<int64_t> record_artifact(Store& store, const ArtifactRecord& artifact);
Result<std::vector<ArtifactRecord>> artifacts_of_run(Store& store, int64_t run_id);  // oldest first

}  // namespace slipway
