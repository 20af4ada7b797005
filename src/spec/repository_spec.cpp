// parse_repository_spec: the top level of .slipway.yml (kind and the sections), and the
// guarantee that no input escapes as an exception.
#include "spec/repository_spec.h"

#include <fmt/core.h>

#include "spec/kind_rules.h"
#include "spec/spec_sections.h"
#include "spec/yaml_document.h"
#include "spec/yaml_reader.h"

namespace slipway {
namespace {

const std::vector<std::string> kKindNames = {"application", "data-task", "library"};

std::optional<Kind> read_kind(SpecReader& reader, const Mapping& root) {
  const Field* field = reader.require(root, "kind", "add 'kind: application', 'kind: data-task' or 'kind: library'");
  if (!field) return std::nullopt;
  auto name = reader.choice(*field, "kind", kKindNames);
  if (!name) return std::nullopt;
  if (*name == "data-task") return Kind::data_task;
  if (*name == "library") return Kind::library;
  return Kind::application;
}

std::optional<std::string> default_task_image(const std::optional<PublishSpec>& publish) {
  if (publish && publish->image) return publish->image->repository;
  return std::nullopt;
}

void read_spec(SpecReader& reader, RepositorySpec& spec) {
  auto document = load_root_mapping(reader);
  if (!document) return;
  auto root = reader.mapping({"", "", YAML::Node(), *document}, {"kind", "test", "publish", "deploy", "tasks"});
  if (!root) return;
  std::optional<Kind> kind = read_kind(reader, *root);
  if (kind) spec.kind = *kind;
  if (auto* test = reader.require(*root, "test", "every repository declares its test suites")) {
    spec.test = read_test_section(reader, *test);
  }
  const Field* publish = root->find("publish");
  if (publish) spec.publish = read_publish_section(reader, *publish, kind);
  if (auto* deploy = root->find("deploy")) {
    check_kind_allows(reader, *deploy, kind);
    spec.deploy = read_deploy_section(reader, *deploy);
  } else if (kind == Kind::application) {
    spec.deploy = DeploySpec{};  // an application always deploys; the defaults fit most
  }
  if (auto* tasks = root->find("tasks")) {
    check_kind_allows(reader, *tasks, kind);
    spec.tasks = read_tasks_section(reader, *tasks, default_task_image(spec.publish));
  }
  if (kind) check_kind_publishes(reader, publish ? *publish : *root->find("kind"), *kind, spec.publish);
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::application: return "application";
    case Kind::data_task: return "data-task";
    case Kind::library: return "library";
  }
  return "unknown";
}

std::string Diagnostic::to_string() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

ParsedSpec parse_repository_spec(std::string_view yaml_text, std::string_view file_name) {
  SpecReader reader(yaml_text, std::string(file_name));
  RepositorySpec spec;
  read_without_throwing(reader, [&] { read_spec(reader, spec); });
  ParsedSpec parsed;
  parsed.diagnostics = reader.take_diagnostics();
  if (parsed.diagnostics.empty()) parsed.spec = std::move(spec);
  return parsed;
}

}  // namespace slipway
