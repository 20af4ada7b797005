#include "spec/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "base/strings.h"
#include "spec/spec_values.h"

namespace slipway {
namespace {

// A file with more problems than this is probably not a .slipway.yml at all (a 1 MB log pasted
// by mistake); the first ones are enough to see that.
constexpr size_t kMaxDiagnostics = 50;
constexpr size_t kMaxMessageLength = 300;

std::string quoted_list(const std::vector<std::string>& options) {
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    if (i) out += (i + 1 == options.size()) ? " or " : ", ";
    out += options[i];
  }
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string match = closest_match(word, candidates);
  return match.empty() ? std::string() : fmt::format("; did you mean '{}'?", match);
}

std::string where(const Field& field) {
  return field.path.empty() ? std::string("at the top level") : fmt::format("in '{}'", field.path);
}

std::string child_path(const Field& parent, std::string_view key) {
  return parent.path.empty() ? std::string(key) : fmt::format("{}.{}", parent.path, key);
}

}  // namespace

std::string describe_value(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  std::string text = node.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("'{}'", text);
}

const Field* Mapping::find(std::string_view name) const {
  for (const auto& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

SpecReader::SpecReader(std::string_view source, std::string file)
    : source_(source), file_(std::move(file)) {}

void SpecReader::report_at(const YAML::Mark& mark, std::string message) {
  if (diagnostics_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  // yaml-cpp marks are 0-based, -1 when unknown; a Diagnostic is 1-based, 0 when unknown.
  int line = mark.line >= 0 ? mark.line + 1 : 0;
  int column = mark.column >= 0 ? mark.column + 1 : 0;
  // A key or value quoted in a message can be anything the file holds, even a megabyte.
  if (message.size() > kMaxMessageLength) message = message.substr(0, kMaxMessageLength) + "...";
  diagnostics_.push_back({file_, line, column, sanitize_utf8(message)});
}

void SpecReader::report(const YAML::Node& at, std::string message) {
  report_at(at.Mark(), std::move(message));
}

void SpecReader::report_key(const Field& field, std::string message) {
  // The root and list items have no key of their own: point at the value instead.
  report(field.key.Mark().is_null() ? field.value : field.key, std::move(message));
}

std::vector<Diagnostic> SpecReader::take_diagnostics() {
  auto position = [](const Diagnostic& d) {
    return std::pair(d.line == 0 ? INT_MAX : d.line, d.column);
  };
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [&](const auto& a, const auto& b) { return position(a) < position(b); });
  if (dropped_ > 0) {
    diagnostics_.push_back({file_, 0, 0, fmt::format("{} more problems not shown", dropped_)});
  }
  dropped_ = 0;
  return std::move(diagnostics_);
}

void SpecReader::type_error(const Field& field, std::string_view expected) {
  report(field.value, fmt::format("'{}' must be {}, found {}", field.path, expected,
                                  describe_value(field.value)));
}

// Reads the pairs of a mapping, rejecting keys that are not plain text and repeated keys
// (yaml-cpp keeps both copies of a repeated key, where a user expects one to win silently).
std::optional<Mapping> SpecReader::entries(const Field& field, std::string_view what) {
  if (field.value.IsNull()) return Mapping{field, {}};
  if (!field.value.IsMap()) {
    type_error(field, what);
    return std::nullopt;
  }
  Mapping mapping{field, {}};
  std::map<std::string, int> first_line;
  for (auto it = field.value.begin(); it != field.value.end(); ++it) {
    YAML::Node key = it->first;  // a copy: the iterator hands out a temporary
    if (!key.IsScalar()) {
      report(key, fmt::format("keys {} must be plain names, found {}", where(field), describe_value(key)));
      continue;
    }
    std::string name = key.Scalar();
    auto [seen, inserted] = first_line.emplace(name, key.Mark().line + 1);
    if (!inserted) {
      report(key, fmt::format("duplicate key '{}' {} (first written on line {})", name, where(field),
                              seen->second));
      continue;
    }
    YAML::Node value = it->second;
    mapping.entries.push_back({child_path(field, name), name, key, value});
  }
  return mapping;
}

std::optional<Mapping> SpecReader::mapping(const Field& field, const std::vector<std::string>& allowed) {
  auto mapping = entries(field, "a mapping");
  if (!mapping) return std::nullopt;
  Mapping known{field, {}};
  for (const auto& entry : mapping->entries) {
    if (std::find(allowed.begin(), allowed.end(), entry.name) != allowed.end()) {
      known.entries.push_back(entry);
    } else {
      report(entry.key, fmt::format("unknown key '{}' {}{}", entry.name, where(field),
                                    did_you_mean(entry.name, allowed)));
    }
  }
  return known;
}

std::optional<Mapping> SpecReader::named_mapping(const Field& field, std::string_view noun, NameRule rule) {
  auto mapping = entries(field, fmt::format("a mapping of {} names to their settings", noun));
  if (!mapping) return std::nullopt;
  std::string_view allowed = rule == NameRule::job_name ? kJobNameRule
                                                         : "use letters, digits and '_', not starting with a digit";
  Mapping valid{field, {}};
  for (const auto& entry : mapping->entries) {
    bool ok = rule == NameRule::job_name ? is_valid_job_name(entry.name) : is_valid_variable_name(entry.name);
    if (ok) valid.entries.push_back(entry);
    else report(entry.key, fmt::format("invalid {} name '{}' {}: {}", noun, entry.name, where(field), allowed));
  }
  return valid;
}

std::optional<std::vector<Field>> SpecReader::sequence(const Field& field) {
  if (field.value.IsNull()) return std::vector<Field>{};
  if (!field.value.IsSequence()) {
    type_error(field, "a list");
    return std::nullopt;
  }
  std::vector<Field> items;
  for (YAML::Node item : field.value) {
    items.push_back({fmt::format("{}[{}]", field.path, items.size()), "", YAML::Node(), item});
  }
  return items;
}

const Field* SpecReader::require(const Mapping& mapping, std::string_view key, std::string_view hint) {
  if (const Field* field = mapping.find(key)) return field;
  const Field& self = mapping.self;
  std::string owner = self.path.empty() ? std::string("the file") : fmt::format("'{}'", self.path);
  report_key(self, fmt::format("{} is missing '{}'{}{}", owner, key, hint.empty() ? "" : ": ", hint));
  return nullptr;
}

std::optional<std::string> SpecReader::string(const Field& field) {
  if (!field.value.IsScalar()) {
    type_error(field, "a string");
    return std::nullopt;
  }
  return field.value.Scalar();
}

std::optional<std::string> SpecReader::non_empty_string(const Field& field) {
  auto text = string(field);
  if (text && trim(*text).empty()) {
    report(field.value, fmt::format("'{}' is empty", field.path));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> SpecReader::choice(const Field& field, std::string_view noun,
                                              const std::vector<std::string>& options) {
  auto text = string(field);
  if (!text) return std::nullopt;
  if (std::find(options.begin(), options.end(), *text) != options.end()) return text;
  report(field.value, fmt::format("unknown {} '{}' (expected {}){}", noun, *text, quoted_list(options),
                                  did_you_mean(*text, options)));
  return std::nullopt;
}

template <typename T>
std::optional<T> SpecReader::parsed_scalar(const Field& field, std::string_view expected,
                                           Result<T> (*parse)(std::string_view)) {
  if (!field.value.IsScalar()) {
    type_error(field, expected);
    return std::nullopt;
  }
  auto parsed = parse(field.value.Scalar());
  if (!parsed) {
    report(field.value, fmt::format("'{}': {}", field.path, parsed.error().message));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<Milliseconds> SpecReader::duration_or_zero(const Field& field) {
  return parsed_scalar(field, "a duration such as 30s or 5m", parse_duration);
}

std::optional<Milliseconds> SpecReader::duration(const Field& field) {
  auto parsed = duration_or_zero(field);
  if (parsed && parsed->count() == 0) {
    report(field.value, fmt::format("'{}' must be longer than 0s", field.path));
    return std::nullopt;
  }
  return parsed;
}

std::optional<int> SpecReader::integer(const Field& field, int minimum) {
  std::string expected = fmt::format("a whole number of at least {}", minimum);
  int value = 0;
  const std::string& text = field.value.IsScalar() ? field.value.Scalar() : std::string();
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!field.value.IsScalar() || text.empty() || error != std::errc() ||
      end != text.data() + text.size() || value < minimum) {
    type_error(field, expected);
    return std::nullopt;
  }
  return value;
}

std::optional<double> SpecReader::positive_number(const Field& field) {
  double value = 0;
  const std::string& text = field.value.IsScalar() ? field.value.Scalar() : std::string();
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!field.value.IsScalar() || text.empty() || error != std::errc() ||
      end != text.data() + text.size() || !std::isfinite(value) || value <= 0) {
    type_error(field, "a number greater than 0");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> SpecReader::memory_size(const Field& field) {
  return parsed_scalar(field, "a memory size such as 512m or 1g", parse_memory_size);
}

std::optional<std::string> SpecReader::workspace_path(const Field& field) {
  auto text = string(field);
  if (!text) return std::nullopt;
  if (auto problem = workspace_path_problem(*text)) {
    report(field.value, fmt::format("'{}': {}", field.path, *problem));
    return std::nullopt;
  }
  return text;
}

std::optional<std::vector<std::string>> SpecReader::string_list(const Field& field) {
  auto items = sequence(field);
  if (!items) return std::nullopt;
  std::vector<std::string> values;
  bool all_valid = true;
  for (const auto& item : *items) {
    auto text = non_empty_string(item);
    if (text) values.push_back(std::move(*text));
    else all_valid = false;
  }
  if (!all_valid) return std::nullopt;
  return values;
}

std::optional<std::vector<std::string>> SpecReader::secret_names(const Field& field) {
  auto items = sequence(field);
  if (!items) return std::nullopt;
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& item : *items) {
    auto name = string(item);
    if (!name) continue;
    if (!is_valid_variable_name(*name)) {
      report(item.value, fmt::format("invalid secret name '{}' in '{}': use letters, digits and '_', "
                                     "not starting with a digit", *name, field.path));
    } else if (!seen.insert(*name).second) {
      report(item.value, fmt::format("secret '{}' is listed twice in '{}'", *name, field.path));
    } else {
      names.push_back(std::move(*name));
    }
  }
  return names;
}

std::optional<std::map<std::string, std::string>> SpecReader::variables(const Field& field) {
  auto mapping = named_mapping(field, "environment variable", NameRule::variable);
  if (!mapping) return std::nullopt;
  std::map<std::string, std::string> values;
  for (const auto& entry : mapping->entries) {
    if (auto text = string(entry)) values[entry.name] = std::move(*text);
  }
  return values;
}

}  // namespace slipway
