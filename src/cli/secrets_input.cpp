#include "cli/secrets_input.h"

#include <cctype>
#include <cstdlib>

#include <fmt/core.h>

#include "base/strings.h"
#include "spec/spec_values.h"

namespace slipway {

Result<std::map<std::string, std::string>> parse_secrets_file(std::string_view text, std::string_view file_name) {
  std::map<std::string, std::string> secrets;
  std::vector<std::string> lines = split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    size_t heredoc = content.find("<<");
    size_t equals = content.find('=');
    bool is_heredoc = heredoc != std::string_view::npos && (equals == std::string_view::npos || heredoc < equals);
    std::string name(trim(content.substr(0, is_heredoc ? heredoc : equals)));
    if ((!is_heredoc && equals == std::string_view::npos) || !is_valid_variable_name(name)) {
      return make_error(fmt::format("{}:{}: expected NAME=value or NAME<<DELIMITER, with NAME made of letters, "
                                    "digits and _", file_name, i + 1));
    }
    if (!is_heredoc) {
      secrets[name] = std::string(line.substr(line.find('=') + 1));
      continue;
    }
    std::string delimiter(trim(content.substr(heredoc + 2)));
    if (delimiter.empty()) return make_error(fmt::format("{}:{}: missing delimiter after <<", file_name, i + 1));
    std::string value;
    size_t start = i;
    for (++i; i < lines.size() && trim(lines[i]) != delimiter; ++i) {
      if (!value.empty()) value += '\n';
      std::string_view value_line = lines[i];
      if (!value_line.empty() && value_line.back() == '\r') value_line.remove_suffix(1);
      value += value_line;
    }
    if (i == lines.size()) {
      return make_error(fmt::format("{}:{}: no closing line '{}' for the value of {}", file_name, start + 1,
                                    delimiter, name));
    }
    secrets[name] = value;
  }
  return secrets;
}

Result<std::map<std::string, std::string>> secrets_from_environment(const std::vector<std::string>& names) {
  std::map<std::string, std::string> secrets;
  for (const auto& name : names) {
    if (!is_valid_variable_name(name)) {
      return make_error(fmt::format("--secret {}: a secret name is letters, digits and _, not starting with a digit",
                                    name));
    }
    const char* value = std::getenv(name.c_str());
    if (!value) {
      return make_error(fmt::format("--secret {}: the environment variable {} is not set (export it, or use "
                                    "--secrets-file)", name, name));
    }
    secrets[name] = value;
  }
  return secrets;
}

}  // namespace slipway
