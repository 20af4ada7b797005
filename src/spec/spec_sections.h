// The readers of each top-level section of .slipway.yml, one file each. They report every
// problem through the SpecReader and return what they could read; the caller keeps the result
// only when the file had no problem at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "spec/job_limits.h"
#include "spec/repository_spec.h"
#include "spec/yaml_reader.h"

namespace slipway {

TestSpec read_test_section(SpecReader& reader, const Field& field);

// `limits: { memory: 4g, pids: 2048, tmp: 1g, cpus: 2 }`, each key optional: the server's
// ceiling in its configuration, a repository's lower limits in `test.limits`.
JobLimits read_job_limits(SpecReader& reader, const Field& field);

// `kind` is nothing when the file's kind is missing or unknown: the shape is then checked but
// not the kind rules.
PublishSpec read_publish_section(SpecReader& reader, const Field& field, std::optional<Kind> kind);

DeploySpec read_deploy_section(SpecReader& reader, const Field& field);

// `default_image` is publish.image.repository when the file has a publish.image; a task
// without an image of its own runs that one.
std::vector<TaskSpec> read_tasks_section(SpecReader& reader, const Field& field,
                                         const std::optional<std::string>& default_image);

}  // namespace slipway
