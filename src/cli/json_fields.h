// Reading fields out of the server's JSON answers defensively: a CLI may meet a server of another
// version, so a missing or mistyped field reads as empty (or the fallback), never as a crash.
#pragma once

#include <cstdint>
#include <string>

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

// The array at `key`, or an empty one.
inline const nlohmann::json& json_list(const nlohmann::json& object, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto found = object.find(key);
  return found != object.end() && found->is_array() ? *found : empty;
}

}  // namespace slipway
