// What each kind may declare and must publish (DESIGN §1): the one place that knows that only
// an application deploys, only a data task has DAGs, functions and tasks, only a library tags.
#pragma once

#include <optional>

#include "spec/repository_spec.h"
#include "spec/yaml_reader.h"

namespace slipway {

// Reports `field` (e.g. "deploy", "publish.tag") when `kind` may not use it.
void check_kind_allows(SpecReader& reader, const Field& field, std::optional<Kind> kind);

// Reports, at `anchor`, a file whose publish section lacks what its kind publishes: an image
// for an application, a tag for a library, at least one artifact for a data task.
void check_kind_publishes(SpecReader& reader, const Field& anchor, Kind kind,
                          const std::optional<PublishSpec>& publish);

}  // namespace slipway
