// EnvironmentSecrets: every credential is taken one way, and a missing one is one error that says
// what needs it, which secret, where, and how to set it.
#include "spec/environment_secrets.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

const std::map<std::string, std::string> kValues = {
    {"REGISTRY_USER", "ci"}, {"REGISTRY_PASSWORD", "hunter2"}, {"S3_ACCESS", "AKIA1"}, {"S3_SECRET", "abc/def"}};

TEST(EnvironmentSecrets, ASetSecretIsGivenAndAMissingOneSaysHowToSetIt) {
  EnvironmentSecrets secrets(kValues, "hello", "staging");
  EXPECT_EQ(*secrets.require("S3_ACCESS", "the bucket's access key"), "AKIA1");
  auto missing = secrets.require("DB_URL", "task export");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "task export needs secret DB_URL, which is not set for hello in staging: slipway secret set hello "
            "staging DB_URL (or '*' for every repository)");
}

TEST(EnvironmentSecrets, ARegistryWithoutAUsernameIsAnonymous) {
  EnvironmentSecrets secrets(kValues, "hello", "staging");
  auto login = secrets.registry_login(RegistryConfig{"127.0.0.1:5000/staging", "", ""});
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->username, "");
  EXPECT_EQ(login->password, "");
}

TEST(EnvironmentSecrets, ARegistryLoginNeedsBothSecrets) {
  EnvironmentSecrets secrets(kValues, "hello", "staging");
  auto login = secrets.registry_login(RegistryConfig{"127.0.0.1:5000/staging", "REGISTRY_USER", "REGISTRY_PASSWORD"});
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->username, "ci");
  EXPECT_EQ(login->password, "hunter2");
  auto no_password = secrets.registry_login(RegistryConfig{"127.0.0.1:5000/staging", "REGISTRY_USER", "NOPE"});
  ASSERT_FALSE(no_password);
  EXPECT_EQ(no_password.error().message.rfind("the registry login needs secret NOPE, which is not set for hello in "
                                              "staging",
                                              0),
            0u)
      << no_password.error().message;
  EXPECT_EQ(no_password.error().message.find("hunter2"), std::string::npos);
}

TEST(EnvironmentSecrets, ABucketNeedsBothKeys) {
  EnvironmentSecrets secrets(kValues, "*", "production");
  BucketConfig bucket;
  bucket.access_key_secret = "S3_ACCESS";
  bucket.secret_key_secret = "S3_SECRET";
  auto keys = secrets.bucket_keys(bucket);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->access_key, "AKIA1");
  EXPECT_EQ(keys->secret_key, "abc/def");
  bucket.secret_key_secret = "S3_GONE";
  auto missing = secrets.bucket_keys(bucket);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("the bucket's secret key needs secret S3_GONE"), std::string::npos);
}

}  // namespace
}  // namespace slipway
