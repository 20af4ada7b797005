// Lists and maps stored as JSON text in one column (a task's command, env and secret names): what
// is written reads back equal, and a column that does not hold what it should is an error, never
// an empty value. Private to src/store/.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

// Invalid UTF-8 (text from outside) is replaced rather than failing the write.
std::string strings_to_json(const std::vector<std::string>& strings);
std::string string_map_to_json(const std::map<std::string, std::string>& map);

// `column` names what is parsed, for the error message.
Result<std::vector<std::string>> strings_from_json(std::string_view text, std::string_view column);
Result<std::map<std::string, std::string>> string_map_from_json(std::string_view text, std::string_view column);

}  // namespace slipway
