#include "spec/kind_rules.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/core.h>

namespace slipway {
namespace {

struct KindRule {
  std::string_view path;
  std::vector<Kind> kinds;
};

const std::vector<KindRule>& kind_rules() {
  static const std::vector<KindRule> rules = {
      {"deploy", {Kind::application}},
      {"tasks", {Kind::data_task}},
      {"publish.image", {Kind::application, Kind::data_task}},
      {"publish.dags", {Kind::data_task}},
      {"publish.functions", {Kind::data_task}},
      {"publish.tag", {Kind::library}},
  };
  return rules;
}

std::string kind_list(const std::vector<Kind>& kinds) {
  std::string out;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i) out += " or ";
    out += kind_name(kinds[i]);
  }
  return out;
}

std::string_view what_is_missing(Kind kind) {
  switch (kind) {
    case Kind::application:
      return "an application publishes a container image: add 'publish: { image: { repository: NAME } }'";
    case Kind::data_task:
      return "a data task publishes at least one of 'publish.image', 'publish.dags' or 'publish.functions'";
    case Kind::library:
      return "a library publishes a version tag: add 'publish: { tag: { bump: patch } }'";
  }
  return "";
}

bool publishes_enough(Kind kind, const PublishSpec& publish) {
  switch (kind) {
    case Kind::application: return publish.image.has_value();
    case Kind::data_task: return publish.image || publish.dags || !publish.functions.empty();
    case Kind::library: return publish.tag.has_value();
  }
  return false;
}

}  // namespace

void check_kind_allows(SpecReader& reader, const Field& field, std::optional<Kind> kind) {
  if (!kind) return;
  for (const auto& rule : kind_rules()) {
    if (rule.path != field.path) continue;
    if (std::find(rule.kinds.begin(), rule.kinds.end(), *kind) != rule.kinds.end()) return;
    reader.report_key(field, fmt::format("'{}' is only for kind {} (this file is kind '{}')",
                                         field.path, kind_list(rule.kinds), kind_name(*kind)));
    return;
  }
}

void check_kind_publishes(SpecReader& reader, const Field& anchor, Kind kind,
                          const std::optional<PublishSpec>& publish) {
  // No `publish:` at all is a test-only repository (no publish jobs are planned); a `publish:`
  // section that names nothing for its kind is a mistake worth stopping.
  if (!publish || publishes_enough(kind, *publish)) return;
  reader.report_key(anchor, fmt::format("nothing to publish: {}", what_is_missing(kind)));
}

}  // namespace slipway
