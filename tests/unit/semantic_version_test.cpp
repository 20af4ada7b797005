// SemanticVersion: strict parsing, numeric ordering (1.2.10 after 1.2.9), bumps, the first
// release (0.1.0), which tag names count as releases, and version files with file:line errors.
#include "publish/semantic_version.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace slipway {
namespace {

SemanticVersion v(uint64_t major, uint64_t minor, uint64_t patch) { return {major, minor, patch}; }

TEST(SemanticVersion, ParsesWithOrWithoutTheV) {
  EXPECT_EQ(*parse_semantic_version("1.2.3"), v(1, 2, 3));
  EXPECT_EQ(*parse_semantic_version("v1.2.3"), v(1, 2, 3));
  EXPECT_EQ(*parse_semantic_version("0.0.0"), v(0, 0, 0));
  EXPECT_EQ(*parse_semantic_version("10.20.300"), v(10, 20, 300));
  EXPECT_EQ(*parse_semantic_version("9223372036854775807.0.0"), v(9223372036854775807ull, 0, 0));
  EXPECT_EQ(v(1, 2, 3).to_string(), "1.2.3");
  EXPECT_EQ(v(1, 2, 3).tag_name(), "v1.2.3");
}

TEST(SemanticVersion, RefusesAnythingElseWithAnExplanation) {
  for (const char* bad : {"", "v", "1", "1.2", "1.2.3.4", "1.2.3-rc1", "1.2.3+build", "01.2.3", "1.02.3",
                          "1.2.03", "V1.2.3", "vv1.2.3", " 1.2.3", "1.2.3 ", "1..3", "-1.2.3", "+1.2.3",
                          "1.2.x", "9223372036854775808.0.0", "99999999999999999999.0.0", "1.2.3\n"}) {
    auto parsed = parse_semantic_version(bad);
    EXPECT_FALSE(parsed.ok()) << "'" << bad << "' was accepted";
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("expected X.Y.Z"), std::string::npos) << bad;
    }
  }
}

TEST(SemanticVersion, ComparesNumericallyNotAsText) {
  EXPECT_LT(v(1, 2, 9), v(1, 2, 10));
  EXPECT_LT(v(1, 9, 99), v(1, 10, 0));
  EXPECT_LT(v(9, 0, 0), v(10, 0, 0));
  EXPECT_LT(v(0, 1, 0), v(1, 0, 0));
  EXPECT_EQ(v(2, 0, 1), v(2, 0, 1));
  std::vector<SemanticVersion> versions = {v(1, 2, 10), v(1, 10, 0), v(1, 2, 9), v(0, 9, 0)};
  EXPECT_EQ(*std::max_element(versions.begin(), versions.end()), v(1, 10, 0));
}

TEST(SemanticVersion, OnlyExactVxyzTagNamesAreReleases) {
  EXPECT_EQ(version_of_tag("v1.2.3"), v(1, 2, 3));
  EXPECT_EQ(version_of_tag("v0.1.0"), v(0, 1, 0));
  for (const char* other : {"1.2.3", "v1.2", "v1.2.3-rc1", "release-1.2.3", "v1.2.3^{}", "V1.2.3", "v01.2.3",
                            "latest", ""}) {
    EXPECT_FALSE(version_of_tag(other).has_value()) << other;
  }
}

TEST(SemanticVersion, BumpsResetTheLowerParts) {
  EXPECT_EQ(bump(v(1, 2, 3), VersionPart::patch), v(1, 2, 4));
  EXPECT_EQ(bump(v(1, 2, 9), VersionPart::patch), v(1, 2, 10));
  EXPECT_EQ(bump(v(1, 2, 3), VersionPart::minor), v(1, 3, 0));
  EXPECT_EQ(bump(v(1, 2, 3), VersionPart::major), v(2, 0, 0));
  EXPECT_EQ(*parse_version_part("major"), VersionPart::major);
  EXPECT_EQ(*parse_version_part("minor"), VersionPart::minor);
  EXPECT_EQ(*parse_version_part("patch"), VersionPart::patch);
  for (const char* bad : {"", "Patch", "micro", "patch "}) {
    auto part = parse_version_part(bad);
    ASSERT_FALSE(part.ok()) << bad;
    EXPECT_NE(part.error().message.find("major, minor or patch"), std::string::npos);
  }
}

TEST(SemanticVersion, TheFirstReleaseIs010WhateverThePart) {
  EXPECT_EQ(next_version(std::nullopt, VersionPart::patch), v(0, 1, 0));
  EXPECT_EQ(next_version(std::nullopt, VersionPart::minor), v(0, 1, 0));
  EXPECT_EQ(next_version(std::nullopt, VersionPart::major), v(0, 1, 0));
  EXPECT_EQ(next_version(v(0, 1, 0), VersionPart::patch), v(0, 1, 1));
  EXPECT_EQ(next_version(v(0, 1, 0), VersionPart::major), v(1, 0, 0));
}

TEST(SemanticVersion, VersionFilesHoldOneVersionLine) {
  EXPECT_EQ(*parse_version_file("1.4.0\n", "VERSION"), v(1, 4, 0));
  EXPECT_EQ(*parse_version_file("v2.0.1", "VERSION"), v(2, 0, 1));
  EXPECT_EQ(*parse_version_file("\n  \r\n  3.1.4  \r\n\n", "VERSION"), v(3, 1, 4));
  EXPECT_EQ(*parse_version_file("\xEF\xBB\xBF" "1.0.0\n", "VERSION"), v(1, 0, 0));
}

TEST(SemanticVersion, VersionFileErrorsNameTheFileAndLine) {
  auto bad = parse_version_file("\n\n1.4\n", "lib/VERSION");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("lib/VERSION:3: '1.4' is not a version", 0), 0u) << bad.error().message;

  auto extra = parse_version_file("1.4.0\nsecond line\n", "VERSION");
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().message.rfind("VERSION:2: ", 0), 0u) << extra.error().message;

  auto empty = parse_version_file("  \n\n", "VERSION");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message.rfind("VERSION:1: the file is empty", 0), 0u) << empty.error().message;

  auto binary = parse_version_file(std::string("1.0.0\0", 6), "VERSION");
  EXPECT_FALSE(binary.ok());
}

}  // namespace
}  // namespace slipway
