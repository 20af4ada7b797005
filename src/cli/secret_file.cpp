#include "cli/secret_file.h"

#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/core.h>

#include "base/files.h"
#include "spec/yaml_document.h"
#include "spec/yaml_reader.h"

namespace slipway {
namespace {

// "value" is accepted by the reader only so that it can be refused with the reason, rather than
// as an unknown key (and so that a near miss like "valeu" gets the same reason).
const std::vector<std::string> kEntryKeys = {"repository", "environment", "name", "from_env", "from_file", "value"};

using Address = std::tuple<std::string, std::string, std::string>;

std::string position(std::string_view file, const YAML::Mark& mark) {
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

// A repository, environment or name, checked by the store's own rule for that part.
std::optional<std::string> read_part(SpecReader& reader, const Mapping& entry, std::string_view key,
                                     std::string_view example) {
  const Field* field = reader.require(entry, key, fmt::format("e.g. {}: {}", key, example));
  if (!field) return std::nullopt;
  auto text = reader.string(*field);
  if (!text) return std::nullopt;
  Status valid = key == "name" ? check_secret_name(*text) : check_secret_scope(key, *text);
  if (!valid) {
    reader.report(field->value, fmt::format("'{}': {}", field->path, valid.error().message));
    return std::nullopt;
  }
  return text;
}

// from_env or from_file, exactly one; the literal `value:` refused with the reason.
bool read_source(SpecReader& reader, const Mapping& entry, SecretReference& secret) {
  if (const Field* literal = entry.find("value")) {
    reader.report_key(*literal, fmt::format("'{}': a secret's value is never written in this file (it would travel in "
                                            "clear wherever the file goes): name where it comes from with "
                                            "from_env: VARIABLE or from_file: PATH", literal->path));
    return false;
  }
  const Field* from_env = entry.find("from_env");
  const Field* from_file = entry.find("from_file");
  if (from_env && from_file) {
    reader.report_key(*from_file, fmt::format("'{}' has both from_env and from_file: keep exactly one", entry.self.path));
    return false;
  }
  if (!from_env && !from_file) {
    reader.report_key(entry.self, fmt::format("'{}' needs from_env: VARIABLE or from_file: PATH (where its value "
                                              "comes from)", entry.self.path));
    return false;
  }
  auto text = reader.non_empty_string(from_env ? *from_env : *from_file);
  if (!text) return false;
  (from_env ? secret.from_env : secret.from_file) = *text;
  return true;
}

std::optional<SecretReference> read_entry(SpecReader& reader, const Field& item, std::string_view file) {
  auto entry = reader.mapping(item, kEntryKeys);
  if (!entry) return std::nullopt;
  SecretReference secret;
  secret.where = position(file, item.value.Mark());
  auto repository = read_part(reader, *entry, "repository", "hello-app (or \"*\" for every repository)");
  auto environment = read_part(reader, *entry, "environment", "production (or \"*\" for every environment)");
  auto name = read_part(reader, *entry, "name", "DATABASE_URL");
  bool has_source = read_source(reader, *entry, secret);
  if (!repository || !environment || !name || !has_source) return std::nullopt;
  secret.repository = *repository;
  secret.environment = *environment;
  secret.name = *name;
  return secret;
}

void read_file_entries(SpecReader& reader, const YAML::Node& document, std::string_view file,
                       std::vector<SecretReference>& secrets) {
  auto root = reader.mapping({"", "", YAML::Node(), document}, {"secrets"});
  if (!root) return;
  const Field* list = reader.require(*root, "secrets", "a list of { repository, environment, name, from_env | from_file }");
  if (!list) return;
  auto items = reader.sequence(*list);
  if (!items) return;
  std::map<Address, int> first_line;
  for (const auto& item : *items) {
    auto secret = read_entry(reader, item, file);
    if (!secret) continue;
    auto [seen, inserted] = first_line.emplace(Address{secret->repository, secret->environment, secret->name},
                                               item.value.Mark().line + 1);
    if (!inserted) {
      reader.report(item.value, fmt::format("{} is listed twice (first on line {})",
                                            describe_secret(secret->repository, secret->environment, secret->name),
                                            seen->second));
      continue;
    }
    secrets.push_back(std::move(*secret));
  }
}

Result<std::string> read_value(const SecretReference& reference, const std::filesystem::path& base_folder) {
  std::string what = fmt::format("{}: {}", reference.where,
                                 describe_secret(reference.repository, reference.environment, reference.name));
  if (!reference.from_env.empty()) {
    const char* value = std::getenv(reference.from_env.c_str());
    if (!value) return make_error(fmt::format("{}: environment variable {} is not set", what, reference.from_env));
    if (!*value) return make_error(fmt::format("{}: environment variable {} is empty", what, reference.from_env));
    return std::string(value);
  }
  std::filesystem::path path = reference.from_file;
  if (path.is_relative()) path = base_folder / path;
  auto content = read_file(path);
  if (!content) return make_error(fmt::format("{}: {}", what, content.error().message));
  std::string value = without_one_trailing_newline(std::move(*content));
  if (value.empty()) return make_error(fmt::format("{}: the file {} is empty", what, path.string()));
  return value;
}

}  // namespace

std::string without_one_trailing_newline(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

ParsedSecretFile parse_secret_file(std::string_view yaml_text, std::string_view file_name) {
  ParsedSecretFile parsed;
  SpecReader reader(yaml_text, std::string(file_name));
  std::vector<SecretReference> secrets;
  read_without_throwing(reader, [&] {
    if (auto document = load_root_mapping(reader)) read_file_entries(reader, *document, file_name, secrets);
  });
  parsed.diagnostics = reader.take_diagnostics();
  if (parsed.diagnostics.empty()) parsed.secrets = std::move(secrets);
  return parsed;
}

Result<std::vector<SecretValue>> read_secret_values(const std::vector<SecretReference>& references,
                                                    const std::filesystem::path& base_folder) {
  std::vector<SecretValue> values;
  std::string problems;
  for (const auto& reference : references) {
    auto value = read_value(reference, base_folder);
    if (!value) {
      problems += (problems.empty() ? "" : "\n") + value.error().message;
      continue;
    }
    values.push_back({reference.repository, reference.environment, reference.name, std::move(*value)});
  }
  if (!problems.empty()) return make_error(problems);
  return values;
}

}  // namespace slipway
