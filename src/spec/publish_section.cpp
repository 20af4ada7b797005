// The `publish:` section: image, dags, functions, tag, secrets.
#include <set>

#include <fmt/core.h>

#include "spec/kind_rules.h"
#include "spec/spec_sections.h"
#include "spec/spec_values.h"

namespace slipway {
namespace {

ImageSpec read_image(SpecReader& reader, const Field& field) {
  ImageSpec image;
  auto mapping = reader.mapping(field, {"dockerfile", "target", "repository", "context"});
  if (!mapping) return image;
  if (auto* dockerfile = mapping->find("dockerfile")) assign(image.dockerfile, reader.workspace_path(*dockerfile));
  if (auto* target = mapping->find("target")) assign(image.target, reader.non_empty_string(*target));
  if (auto* context = mapping->find("context")) assign(image.context, reader.workspace_path(*context));
  const Field* repository = reader.require(*mapping, "repository", "the image name within each environment's registry");
  if (!repository) return image;
  auto name = reader.string(*repository);
  if (name && !is_valid_image_repository(*name)) {
    reader.report(repository->value, fmt::format("invalid image repository '{}': use lowercase letters, digits, "
                                                 "'.', '_', '-' and '/', e.g. hello-app or team/hello-app", *name));
  } else {
    assign(image.repository, std::move(name));
  }
  return image;
}

DagsSpec read_dags(SpecReader& reader, const Field& field) {
  DagsSpec dags;
  auto mapping = reader.mapping(field, {"from", "prefix"});
  if (!mapping) return dags;
  if (auto* from = reader.require(*mapping, "from", "the folder of DAG files in the repository")) {
    assign(dags.from, reader.workspace_path(*from));
  }
  // An empty prefix syncs to the bucket's root; otherwise it has the shape of a relative path.
  if (auto* prefix = mapping->find("prefix")) {
    auto text = reader.string(*prefix);
    if (text && !text->empty()) text = reader.workspace_path(*prefix);
    assign(dags.prefix, std::move(text));
  }
  return dags;
}

std::vector<FunctionSpec> read_functions(SpecReader& reader, const Field& field) {
  std::vector<FunctionSpec> functions;
  auto items = reader.sequence(field);
  if (!items) return functions;
  std::set<std::string> names;
  for (const auto& item : *items) {
    auto mapping = reader.mapping(item, {"name", "from"});
    if (!mapping) continue;
    FunctionSpec function;
    if (auto* name = reader.require(*mapping, "name", "the function's name")) {
      auto text = reader.non_empty_string(*name);
      if (text && !is_valid_job_name(*text)) {
        reader.report(name->value, fmt::format("invalid function name '{}': {}", *text, kJobNameRule));
      } else if (text && !names.insert(*text).second) {
        reader.report(name->value, fmt::format("function '{}' is declared twice in '{}'", *text, field.path));
      } else {
        assign(function.name, std::move(text));
      }
    }
    if (auto* from = reader.require(*mapping, "from", "the folder zipped into the function bundle")) {
      assign(function.from, reader.workspace_path(*from));
    }
    functions.push_back(std::move(function));
  }
  return functions;
}

TagSpec read_tag(SpecReader& reader, const Field& field) {
  TagSpec tag;
  auto mapping = reader.mapping(field, {"bump", "version_file"});
  if (!mapping) return tag;
  const Field* bump = mapping->find("bump");
  const Field* version_file = mapping->find("version_file");
  if (bump && version_file) {
    reader.report_key(*version_file, "'publish.tag' takes either 'bump' or 'version_file', not both");
  } else if (!bump && !version_file) {
    reader.report_key(field, "'publish.tag' needs 'bump' (major, minor or patch) or 'version_file'");
  }
  if (bump) assign(tag.bump, reader.choice(*bump, "bump", {"major", "minor", "patch"}));
  if (version_file) assign(tag.version_file, reader.workspace_path(*version_file));
  return tag;
}

}  // namespace

PublishSpec read_publish_section(SpecReader& reader, const Field& field, std::optional<Kind> kind) {
  PublishSpec publish;
  auto mapping = reader.mapping(field, {"image", "dags", "functions", "tag", "secrets"});
  if (!mapping) return publish;
  for (const auto& entry : mapping->entries) check_kind_allows(reader, entry, kind);
  if (auto* image = mapping->find("image")) publish.image = read_image(reader, *image);
  if (auto* dags = mapping->find("dags")) publish.dags = read_dags(reader, *dags);
  if (auto* functions = mapping->find("functions")) publish.functions = read_functions(reader, *functions);
  if (auto* tag = mapping->find("tag")) publish.tag = read_tag(reader, *tag);
  if (auto* secrets = mapping->find("secrets")) assign(publish.secrets, reader.secret_names(*secrets));
  return publish;
}

}  // namespace slipway
