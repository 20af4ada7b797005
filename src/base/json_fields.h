// Reading fields out of JSON defensively: a CLI may meet a server of another version, and a
// stored record may predate a field, so a missing or mistyped field reads as empty (or the
// fallback), never as a crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slipway {

inline std::string json_text(const nlohmann::json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

inline int64_t json_integer(const nlohmann::json& object, const char* key, int64_t fallback = 0) {
  auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

inline double json_number(const nlohmann::json& object, const char* key, double fallback = 0.0) {
  auto found = object.find(key);
  return found != object.end() && found->is_number() ? found->get<double>() : fallback;
}

// The array at `key`, or an empty one.
inline const nlohmann::json& json_list(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto found = object.find(key);
  return found != object.end() && found->is_array() ? *found : empty;
}

// The strings of the array at `key` (other elements skipped).
inline std::vector<std::string> json_strings(const nlohmann::json& object, const char* key) {
  std::vector<std::string> values;
  for (const auto& value : json_list(object, key)) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

// The string values of the object at `key` (other values skipped).
inline std::map<std::string, std::string> json_string_map(const nlohmann::json& object, const char* key) {
  std::map<std::string, std::string> values;
  auto found = object.find(key);
  if (found == object.end() || !found->is_object()) return values;
  for (const auto& [name, value] : found->items()) {
    if (value.is_string()) values[name] = value.get<std::string>();
  }
  return values;
}

}  // namespace slipway
