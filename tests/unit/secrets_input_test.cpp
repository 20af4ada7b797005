#include "cli/secrets_input.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(SecretsFile, ReadsPairsCommentsAndMultiLineValues) {
  auto secrets = parse_secrets_file("# comment\n\nTOKEN=abc=def\r\nKEY<<EOF\nline one\nline two\nEOF\nEMPTY=\n", "s.env");
  ASSERT_TRUE(secrets.ok()) << secrets.error().message;
  EXPECT_EQ(secrets->at("TOKEN"), "abc=def");
  EXPECT_EQ(secrets->at("KEY"), "line one\nline two");
  EXPECT_EQ(secrets->at("EMPTY"), "");
}

TEST(SecretsFile, ErrorsNameFileAndLine) {
  auto no_equals = parse_secrets_file("A=1\nnonsense\n", "s.env");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_EQ(no_equals.error().message.rfind("s.env:2:", 0), 0u) << no_equals.error().message;
  auto bad_name = parse_secrets_file("1ABC=x\n", "s.env");
  ASSERT_FALSE(bad_name.ok());
  auto unclosed = parse_secrets_file("KEY<<END\nvalue\n", "s.env");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.error().message.find("no closing line 'END'"), std::string::npos);
}

TEST(SecretsFromEnvironment, ReadsSetVariablesAndNamesMissingOnes) {
  ::setenv("SLIPWAY_UNIT_SECRET", "value-1", 1);
  auto found = secrets_from_environment({"SLIPWAY_UNIT_SECRET"});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->at("SLIPWAY_UNIT_SECRET"), "value-1");
  ::unsetenv("SLIPWAY_UNIT_SECRET");
  auto missing = secrets_from_environment({"SLIPWAY_UNIT_SECRET"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("SLIPWAY_UNIT_SECRET is not set"), std::string::npos);
  EXPECT_FALSE(secrets_from_environment({"bad-name"}).ok());
}

}  // namespace
}  // namespace slipway
