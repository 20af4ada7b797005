// SemanticVersion: the X.Y.Z of a library's release tags (vX.Y.Z), compared numerically
// (1.2.10 > 1.2.9), parsed strictly (no leading zeros, no pre-release or build suffix), and
// bumped the usual way. Pure functions: no git, no files.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

struct SemanticVersion {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;

  auto operator<=>(const SemanticVersion&) const = default;
  std::string to_string() const;   // "1.2.3"
  std::string tag_name() const;    // "v1.2.3"
};

// "1.2.3" or "v1.2.3". Each part is digits only, without a leading zero (except "0" itself),
// and below 2^63; anything else — "1.2", "1.2.3-rc1", " 1.2.3", "v01.2.3" — is an Error
// saying what was expected.
Result<SemanticVersion> parse_semantic_version(std::string_view text);

// A release tag's name "vX.Y.Z", exactly; nullopt for every other tag name ("1.2.3",
// "v1.2", "v1.2.3-rc1", "release-1"), which the library publish ignores.
std::optional<SemanticVersion> version_of_tag(std::string_view tag_name);

enum class VersionPart { major, minor, patch };

// "major", "minor" or "patch" (what `publish.tag.bump` holds); an Error otherwise.
Result<VersionPart> parse_version_part(std::string_view text);

// major: (X+1).0.0, minor: X.(Y+1).0, patch: X.Y.(Z+1).
SemanticVersion bump(SemanticVersion version, VersionPart part);

// The version a bump release gets: the latest tag bumped, or 0.1.0 when there is no release
// tag yet — whatever the part, so a library's first release is v0.1.0.
SemanticVersion next_version(const std::optional<SemanticVersion>& latest, VersionPart part);

// The version held by a version file (`publish.tag.version_file`): one line "X.Y.Z" or
// "vX.Y.Z", blank lines and surrounding spaces ignored. Errors read "FILE:LINE: ..." with
// `file_name` as given.
Result<SemanticVersion> parse_version_file(std::string_view content, std::string_view file_name);

}  // namespace slipway
