#include "store/json_columns.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace slipway {

namespace {

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Error column_error(std::string_view column, std::string_view expected, std::string_view text) {
  return make_error(fmt::format("column {} does not hold {}: '{}' (was the database edited by hand?)", column,
                                expected, text));
}

}  // namespace

std::string strings_to_json(const std::vector<std::string>& strings) { return dump(nlohmann::json(strings)); }

std::string string_map_to_json(const std::map<std::string, std::string>& map) {
  return dump(nlohmann::json(map));
}

Result<std::vector<std::string>> strings_from_json(std::string_view text, std::string_view column) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return column_error(column, "a JSON array of strings", text);
  std::vector<std::string> strings;
  for (const auto& item : parsed) {
    if (!item.is_string()) return column_error(column, "a JSON array of strings", text);
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

Result<std::map<std::string, std::string>> string_map_from_json(std::string_view text, std::string_view column) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_object()) return column_error(column, "a JSON object of strings", text);
  std::map<std::string, std::string> map;
  for (const auto& [key, value] : parsed.items()) {
    if (!value.is_string()) return column_error(column, "a JSON object of strings", text);
    map.emplace(key, value.get<std::string>());
  }
  return map;
}

}  // namespace slipway
