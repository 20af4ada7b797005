// SpecReader: a checked view of a parsed YAML document. Every read either returns a value or
// records a Diagnostic (file:line:col of the offending key or value) and returns nothing, so
// the section readers stay straight-line code and all problems of a file are collected in one
// pass. Never throws: it only looks at node types and scalar text, never at yaml-cpp's as<T>().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/result.h"
#include "base/time.h"
#include "spec/repository_spec.h"

namespace slipway {

// One value of the file, with the dotted path that names it in messages.
struct Field {
  std::string path;   // "test.suites.unit.run"; "" for the root
  std::string name;   // the key ("run"); "" for the root and list items
  YAML::Node key;     // where the key is written; undefined for the root and list items
  YAML::Node value;

  // YAML::Node's assignment does not rebind: it rewrites the node inside the document. A Field
  // is therefore only ever constructed, never assigned (no erase, no sort of Fields).
  Field(std::string path, std::string name, YAML::Node key, YAML::Node value)
      : path(std::move(path)), name(std::move(name)), key(std::move(key)), value(std::move(value)) {}
  Field(const Field&) = default;
  Field& operator=(const Field&) = delete;
};

// The entries of a checked mapping, in file order.
struct Mapping {
  Field self;
  std::vector<Field> entries;
  const Field* find(std::string_view name) const;
};

// How user-chosen keys (suite, service, task names; variable names) must look.
enum class NameRule { job_name, variable };

class SpecReader {
 public:
  SpecReader(std::string_view source, std::string file);

  // Diagnostics at the mark of `at`, or at a key when the problem is the key itself.
  void report(const YAML::Node& at, std::string message);
  void report_at(const YAML::Mark& mark, std::string message);
  void report_key(const Field& field, std::string message);
  // Everything reported so far, in file order; a note ends the list when it was cut short.
  std::vector<Diagnostic> take_diagnostics();
  size_t problem_count() const { return diagnostics_.size() + dropped_; }
  std::string_view source() const { return source_; }

  // A mapping whose keys must be among `allowed` (an unknown key gets a "did you mean") and
  // appear once. A null value reads as an empty mapping. Nothing when it is not a mapping.
  std::optional<Mapping> mapping(const Field& field, const std::vector<std::string>& allowed);
  // A mapping whose keys are names the user chooses, each checked against `rule`.
  std::optional<Mapping> named_mapping(const Field& field, std::string_view noun, NameRule rule);
  // The items of a list (null reads as empty), each a Field named "path[i]".
  std::optional<std::vector<Field>> sequence(const Field& field);

  // `key` in `mapping`, or a "missing" diagnostic at the mapping's key.
  const Field* require(const Mapping& mapping, std::string_view key, std::string_view hint);

  std::optional<std::string> string(const Field& field);
  std::optional<std::string> non_empty_string(const Field& field);
  // One of `options`, e.g. "host" | "none"; `noun` names it in the message ("network").
  std::optional<std::string> choice(const Field& field, std::string_view noun,
                                    const std::vector<std::string>& options);
  std::optional<Milliseconds> duration(const Field& field);          // longer than zero
  std::optional<Milliseconds> duration_or_zero(const Field& field);
  std::optional<int> integer(const Field& field, int minimum);
  std::optional<double> positive_number(const Field& field);
  std::optional<int64_t> memory_size(const Field& field);
  // A path inside the workspace: relative, without '..' components.
  std::optional<std::string> workspace_path(const Field& field);
  std::optional<std::vector<std::string>> string_list(const Field& field);
  std::optional<std::vector<std::string>> secret_names(const Field& field);
  std::optional<std::map<std::string, std::string>> variables(const Field& field);

 private:
  std::optional<Mapping> entries(const Field& field, std::string_view what);
  void type_error(const Field& field, std::string_view expected);
  // A scalar read by `parse` (a duration, a memory size), whose error is reported at the field.
  template <typename T>
  std::optional<T> parsed_scalar(const Field& field, std::string_view expected, Result<T> (*parse)(std::string_view));

  std::string_view source_;
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  size_t dropped_ = 0;
};

// Sets `target` when the reader produced a value; leaves the default otherwise.
template <typename T>
void assign(T& target, std::optional<T> value) {
  if (value) target = std::move(*value);
}

// "a mapping", "a list", "nothing" or the quoted scalar, for "must be X, found Y" messages.
std::string describe_value(const YAML::Node& node);

}  // namespace slipway
