// Library publish: the commit becomes release vX.Y.Z — an annotated tag pushed to origin and
// read back from it. The version comes from origin's own tags (never a stale local copy) or
// from the repository's version file; a version origin already has elsewhere is refused, and
// only that one tag ref is ever pushed. Git runs as the CLI, by argv.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "publish/semantic_version.h"
#include "spec/repository_spec.h"

namespace slipway {

// The highest release tag (exactly vX.Y.Z, compared numerically) of the repository at `repo`
// (a work tree or a bare repository); nullopt when it has none. Other tags are ignored.
Result<std::optional<SemanticVersion>> latest_version_tag(const std::filesystem::path& repo);

struct TagPublishRequest {
  // A checkout of the repository holding `commit` (ci/git_checkout.h makes one; its own
  // `origin` remote is Slipway's source copy, so the push target is given separately).
  std::filesystem::path workspace;
  std::string origin;                 // where tags are read from and pushed to: a path or URL
  std::string commit;                 // full sha of the commit to release
  TagSpec spec;                       // `bump`, or `version_file` (read from `commit` itself)
  std::string tagger_name = "Slipway";
  std::string tagger_email = "slipway@localhost";
};

struct PublishedTag {
  std::string tag;                    // "v1.2.3"
  std::string commit;                 // the commit it names
  std::string origin;                 // where it is, with any user:password@ taken out
  std::string tag_object;             // sha of the tag on origin
  bool created = true;                // false: origin already had this commit as this release
};

// Receives one line per step, for the publish job's log.
using TagLineCallback = std::function<void(std::string_view line)>;

// Releases `commit`:
// 1. reads origin's tags (`git ls-remote`, so the latest is origin's, not the workspace's);
// 2. the version: bump mode takes origin's latest vX.Y.Z and bumps it (v0.1.0 when there is
//    none); version-file mode reads X.Y.Z from the file as committed in `commit`;
// 3. when origin already has that tag on `commit` — a retried job, or a second environment
//    publishing the same commit — returns it with created = false and pushes nothing. In bump
//    mode any release tag origin has on `commit` counts, so a commit is released only once;
// 4. refuses a tag that exists on origin at another commit, or in the workspace but not on
//    origin ("tag v1.2.3 already exists on origin (at abc1234): bump VERSION or delete the tag");
// 5. creates the annotated tag ("Release vX.Y.Z") in the workspace, pushes only that ref, and
//    checks with `git ls-remote` that origin's tag is the tag object just made. A refused push
//    is an Error quoting git; the workspace's tag is then deleted so a retry starts clean.
Result<PublishedTag> publish_version_tag(const TagPublishRequest& request, const TagLineCallback& on_line);

// `origin` for logs and records: a URL's user:password@ removed, anything else unchanged.
std::string origin_for_display(std::string_view origin);

}  // namespace slipway
