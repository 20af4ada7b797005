#include "server/url.h"

#include "base/strings.h"

namespace slipway {

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      decoded += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two hex digits after it
      int high = hex_digit_value(text[i + 1]), low = hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      char byte = static_cast<char>(high * 16 + low);
      if (byte == '\0') return std::nullopt;
      decoded += byte;
      i += 2;
    } else {
      decoded += c;
    }
  }
  return decoded;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> parameters;
  if (query.empty()) return parameters;
  for (const std::string& pair : split(query, '&')) {
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    auto name = percent_decode(std::string_view(pair).substr(0, equals), true);
    auto value = equals == std::string::npos ? std::optional<std::string>("")
                                             : percent_decode(std::string_view(pair).substr(equals + 1), true);
    if (!name || !value) return std::nullopt;
    parameters[*name] = *value;
  }
  return parameters;
}

}  // namespace slipway
