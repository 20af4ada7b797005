// Loads the single YAML document of a .slipway.yml, turning yaml-cpp's parser errors into
// diagnostics a user can act on ("tab used for indentation" rather than "illegal map value").
#pragma once

#include <functional>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "spec/yaml_reader.h"

namespace slipway {

// The root mapping of `reader.source()`, or nothing after reporting why there is none: a
// syntax error, an empty file, a root that is not a mapping, or more than one document.
std::optional<YAML::Node> load_root_mapping(SpecReader& reader);

// Runs `read`, the reading of a whole file, so that nothing the file holds escapes as an
// exception: the reader never calls a throwing yaml-cpp accessor, but a parser of untrusted
// files must not trust that alone. Anything thrown is reported as "could not read the file".
void read_without_throwing(SpecReader& reader, const std::function<void()>& read);

}  // namespace slipway
