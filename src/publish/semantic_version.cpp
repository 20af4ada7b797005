#include "publish/semantic_version.h"

#include <charconv>
#include <limits>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

namespace {

constexpr uint64_t kPartLimit = uint64_t(1) << 63;  // so a bump never wraps around

// One dotted part: digits, no leading zero, below kPartLimit.
std::optional<uint64_t> parse_part(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value >= kPartLimit) return std::nullopt;
  return value;
}

std::optional<SemanticVersion> parse_numbers(std::string_view text) {
  auto parts = split(text, '.');
  if (parts.size() != 3) return std::nullopt;
  auto major = parse_part(parts[0]), minor = parse_part(parts[1]), patch = parse_part(parts[2]);
  if (!major || !minor || !patch) return std::nullopt;
  return SemanticVersion{*major, *minor, *patch};
}

}  // namespace

std::string SemanticVersion::to_string() const { return fmt::format("{}.{}.{}", major, minor, patch); }

std::string SemanticVersion::tag_name() const { return "v" + to_string(); }

Result<SemanticVersion> parse_semantic_version(std::string_view text) {
  std::string_view numbers = text.starts_with('v') ? text.substr(1) : text;
  if (auto version = parse_numbers(numbers)) return *version;
  return make_error(fmt::format("'{}' is not a version: expected X.Y.Z (optionally vX.Y.Z), three whole "
                                "numbers without leading zeros, e.g. 1.4.0",
                                sanitize_utf8(text)));
}

std::optional<SemanticVersion> version_of_tag(std::string_view tag_name) {
  if (!tag_name.starts_with('v')) return std::nullopt;
  return parse_numbers(tag_name.substr(1));
}

Result<VersionPart> parse_version_part(std::string_view text) {
  if (text == "major") return VersionPart::major;
  if (text == "minor") return VersionPart::minor;
  if (text == "patch") return VersionPart::patch;
  return make_error(fmt::format("unknown version bump '{}': use major, minor or patch", sanitize_utf8(text)));
}

SemanticVersion bump(SemanticVersion version, VersionPart part) {
  switch (part) {
    case VersionPart::major:
      return {version.major + 1, 0, 0};
    case VersionPart::minor:
      return {version.major, version.minor + 1, 0};
    case VersionPart::patch:
      break;
  }
  return {version.major, version.minor, version.patch + 1};
}

SemanticVersion next_version(const std::optional<SemanticVersion>& latest, VersionPart part) {
  if (!latest) return {0, 1, 0};
  return bump(*latest, part);
}

Result<SemanticVersion> parse_version_file(std::string_view content, std::string_view file_name) {
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // a UTF-8 byte-order mark
  std::optional<SemanticVersion> found;
  int found_line = 0;
  std::vector<std::string> lines = split(content, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    int number = static_cast<int>(i) + 1;
    if (line.empty()) continue;
    if (found) {
      return make_error(fmt::format("{}:{}: unexpected text after the version on line {}: the file must hold "
                                    "only X.Y.Z", file_name, number, found_line));
    }
    auto version = parse_semantic_version(line);
    if (!version) return make_error(fmt::format("{}:{}: {}", file_name, number, version.error().message));
    found = *version;
    found_line = number;
  }
  if (!found) return make_error(fmt::format("{}:1: the file is empty: write the version as X.Y.Z, e.g. 0.1.0", file_name));
  return *found;
}

}  // namespace slipway
