#include "spec/spec_values.h"

#include <cctype>
#include <cstdint>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_valid_repository_component(std::string_view part) {
  if (part.empty() || !is_lower_or_digit(part.front()) || !is_lower_or_digit(part.back())) {
    return false;
  }
  for (char c : part) {
    if (!is_lower_or_digit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

bool is_valid_image_repository(std::string_view name) {
  if (name.empty()) return false;
  for (const auto& part : split(name, '/')) {
    if (!is_valid_repository_component(part)) return false;
  }
  return true;
}

std::optional<std::string> workspace_path_problem(std::string_view path) {
  if (path.empty()) return "the path is empty";
  if (path.front() == '/' || path.front() == '~') {
    return fmt::format("'{}' is absolute: use a path relative to the repository root", path);
  }
  for (const auto& part : split(path, '/')) {
    if (part == "..") {
      return fmt::format("'{}' leaves the repository through '..': paths must stay inside it", path);
    }
  }
  return std::nullopt;
}

Result<int64_t> parse_memory_size(std::string_view text) {
  auto invalid = [&] {
    return make_error(fmt::format(
        "invalid memory size '{}': use bytes or a number with k, m or g, e.g. 512m, 1g", text));
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) return invalid();
  int64_t number = 0;
  for (size_t i = 0; i < digits; ++i) number = number * 10 + (text[i] - '0');
  std::string_view unit = text.substr(digits);
  int shift = 0;
  if (unit.size() > 1) return invalid();
  if (unit.size() == 1) {
    switch (std::tolower(static_cast<unsigned char>(unit[0]))) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      default: return invalid();
    }
  }
  // At most 15 digits keeps the accumulation above from overflowing; this keeps the shift from it.
  if (number > (INT64_MAX >> shift)) return invalid();
  if (number == 0) return make_error(fmt::format("memory size '{}' must be greater than 0", text));
  return number << shift;
}

}  // namespace slipway
