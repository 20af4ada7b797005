// Slipway's S3 client and sync against a real S3 server (s3rver on 127.0.0.1, which checks every
// SigV4 signature), with the AWS CLI as the independent witness of what landed: put, list, get
// and delete in path and virtual-host style; a 12 MiB multipart upload in 5 MiB parts; a sync
// that uploads everything, then nothing, then exactly the changed, added and removed files; and
// the failures a user meets — missing bucket, wrong secret or access key, S3 unreachable, a
// symlink leading out of the folder.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/files.h"
#include "base/strings.h"
#include "publish/s3_client.h"
#include "publish/s3_sync.h"
#include "support/s3rver_fixture.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::S3rverProcess;
using testing::S3rverSettings;

constexpr const char* kBucket = "slipway-test";

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string random_bytes_of(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  return bytes;
}

// The keys under s3://kBucket/prefix, as `aws s3 ls --recursive` lists them.
std::vector<std::string> aws_keys(const S3rverProcess& s3rver, const std::string& prefix) {
  CommandOutput listed = s3rver.aws({"s3", "ls", "s3://" + std::string(kBucket) + "/" + prefix, "--recursive"});
  EXPECT_TRUE(listed.exit_code == 0 || listed.out.empty()) << listed.err;  // exit 1 when nothing matches
  std::vector<std::string> keys;
  // "2026-11-26 08:10:56          6 dags/a b.py": date, time, size, then the key (spaces and all).
  for (const std::string& line : split(listed.out, '\n')) {
    size_t size_start = line.find_first_not_of(' ', 19);
    size_t key_start = size_start == std::string::npos ? size_start : line.find(' ', size_start);
    if (line.size() > 19 && key_start != std::string::npos) keys.push_back(line.substr(key_start + 1));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string aws_cat(const S3rverProcess& s3rver, const std::string& key) {
  CommandOutput copied = s3rver.aws({"s3", "cp", "s3://" + std::string(kBucket) + "/" + key, "-"});
  EXPECT_EQ(copied.exit_code, 0) << copied.err;
  return copied.out;
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(s3rver_.running()) << s3rver_.error(); }

  std::unique_ptr<S3Client> client(const std::string& secret = S3rverProcess::kSecretKey,
                                   const std::string& access = S3rverProcess::kAccessKey) {
    S3Options options;
    options.endpoint = s3rver_.endpoint();
    options.access_key = access;
    options.secret_key = secret;
    auto created = S3Client::create(options);
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created ? std::move(*created) : nullptr;
  }

  std::vector<std::string> aws_keys(const std::string& prefix = "") { return slipway::aws_keys(s3rver_, prefix); }
  std::string aws_cat(const std::string& key) { return slipway::aws_cat(s3rver_, key); }

  S3rverProcess s3rver_;
  TemporaryDirectory work_{"slipway-s3-test"};
};

TEST_F(S3ClientTest, PutsListsGetsAndDeletesInPathStyle) {
  auto s3 = client();
  ASSERT_TRUE(s3);
  ASSERT_TRUE(s3->head_bucket(kBucket).ok());
  auto etag = s3->put_object(kBucket, "dags/hello world+1.py", "print('hello')\n");
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_EQ(*etag, md5_hex("print('hello')\n"));
  write(work_.path() / "b.py", "b = 2\n");
  auto file_etag = s3->put_file(kBucket, "dags/sub/b.py", work_.path() / "b.py");
  ASSERT_TRUE(file_etag.ok()) << file_etag.error().message;
  ASSERT_TRUE(s3->put_object(kBucket, "other/c.txt", "c").ok());

  auto listed = s3->list_objects(kBucket, "dags/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "dags/hello world+1.py");
  EXPECT_EQ((*listed)[0].size, 15);
  EXPECT_EQ((*listed)[0].etag, *etag);
  EXPECT_EQ((*listed)[1].key, "dags/sub/b.py");
  EXPECT_EQ(aws_keys("dags/"), (std::vector<std::string>{"dags/hello world+1.py", "dags/sub/b.py"}));
  EXPECT_EQ(aws_cat("dags/hello world+1.py"), "print('hello')\n");
  auto got = s3->get_object(kBucket, "dags/sub/b.py");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, "b = 2\n");

  ASSERT_TRUE(s3->delete_objects(kBucket, {"dags/hello world+1.py", "dags/sub/b.py", "dags/never-there"}).ok());
  auto after = s3->list_objects(kBucket, "dags/");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  EXPECT_TRUE(aws_keys("dags/").empty());
  EXPECT_EQ(aws_keys(), (std::vector<std::string>{"other/c.txt"}));
}

TEST_F(S3ClientTest, ListsEveryPageOfALargePrefix) {
  auto s3 = client();
  ASSERT_TRUE(s3);
  std::vector<std::string> keys;
  for (int i = 0; i < 1005; ++i) keys.push_back(fmt::format("many/{:04}.txt", i));
  for (const std::string& key : keys) ASSERT_TRUE(s3->put_object(kBucket, key, key).ok());
  auto listed = s3->list_objects(kBucket, "many/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1005u);  // S3 pages at 1 000 keys
  EXPECT_EQ(listed->back().key, "many/1004.txt");
  ASSERT_TRUE(s3->delete_objects(kBucket, keys).ok());  // two DeleteObjects batches
  EXPECT_TRUE(aws_keys("many/").empty());
}

// s3rver cannot check the signature of a virtual-host request (see S3rverSettings), so this one
// runs against a server that checks only the access key; the signing itself is the same code
// as in path style, and sigv4_test checks AWS's virtual-host GET Object example.
TEST(S3ClientVirtualHost, PutsListsGetsAndDeletesWithTheBucketInTheHostName) {
  S3rverProcess s3rver(S3rverSettings{.check_signatures = false});
  ASSERT_TRUE(s3rver.running()) << s3rver.error();
  TemporaryDirectory work("slipway-s3-test");
  S3Options options;
  options.endpoint = s3rver.vhost_endpoint();
  options.access_key = options.secret_key = S3rverProcess::kSecretKey;
  options.path_style = false;
  auto s3 = S3Client::create(options);
  ASSERT_TRUE(s3.ok()) << s3.error().message;
  // The bucket is only in the Host header (slipway-test.s3.localhost:PORT): a server that did
  // not read it would take "vhost" for the bucket and answer NoSuchBucket.
  auto checked = (*s3)->head_bucket(kBucket);
  ASSERT_TRUE(checked.ok()) << checked.error().message << "\n" << s3rver.log();
  ASSERT_TRUE((*s3)->put_object(kBucket, "vhost/a.txt", "in a virtual host").ok());
  write(work.path() / "b.txt", "b");
  ASSERT_TRUE((*s3)->put_file(kBucket, "vhost/b.txt", work.path() / "b.txt").ok());
  auto listed = (*s3)->list_objects(kBucket, "vhost/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 2u);
  EXPECT_EQ(aws_keys(s3rver, "vhost/"), (std::vector<std::string>{"vhost/a.txt", "vhost/b.txt"}));
  EXPECT_EQ(aws_cat(s3rver, "vhost/a.txt"), "in a virtual host");
  ASSERT_TRUE((*s3)->delete_objects(kBucket, {"vhost/a.txt"}).ok());
  EXPECT_EQ(aws_keys(s3rver, "vhost/"), (std::vector<std::string>{"vhost/b.txt"}));
  auto missing = (*s3)->head_bucket("no-such-bucket");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << missing.error().message;
}

TEST_F(S3ClientTest, UploadsALargeFileInPartsOfFiveMiB) {
  S3Options options;
  options.endpoint = s3rver_.endpoint();
  options.access_key = options.secret_key = "S3RVER";
  options.multipart_threshold = 5 * 1024 * 1024;
  options.part_size = 5 * 1024 * 1024;
  auto s3 = S3Client::create(options);
  ASSERT_TRUE(s3.ok()) << s3.error().message;
  std::string content = random_bytes_of(12 * 1024 * 1024, 7);
  write(work_.path() / "big.bin", content);

  auto uploaded = upload_file(**s3, work_.path() / "big.bin", kBucket, "functions/big.bin");
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  EXPECT_EQ(uploaded->url, "s3://slipway-test/functions/big.bin");
  EXPECT_FALSE(uploaded->etag.empty());
  EXPECT_NE(s3rver_.log().find("Stored part 3 of"), std::string::npos) << "not uploaded in 3 parts";
  EXPECT_EQ(s3rver_.log().find("Stored part 4 of"), std::string::npos);
  auto back = (*s3)->get_object(kBucket, "functions/big.bin");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(sha256_hex(*back), sha256_hex(content));
  EXPECT_EQ(sha256_hex(aws_cat("functions/big.bin")), sha256_hex(content));

  // A second sync of the folder sees the multipart object as unchanged.
  fs::create_directories(work_.path() / "fn");
  fs::rename(work_.path() / "big.bin", work_.path() / "fn" / "big.bin");
  auto synced = sync_directory(**s3, work_.path() / "fn", kBucket, "functions");
  ASSERT_TRUE(synced.ok()) << synced.error().message;
  EXPECT_EQ(synced->uploaded, 0);
  EXPECT_EQ(synced->unchanged, 1);
}

TEST_F(S3ClientTest, MultipartUploadToAMissingBucketFailsClearly) {
  S3Options options;
  options.endpoint = s3rver_.endpoint();
  options.access_key = options.secret_key = "S3RVER";
  options.multipart_threshold = 5 * 1024 * 1024;
  options.part_size = 5 * 1024 * 1024;
  auto s3 = S3Client::create(options);
  ASSERT_TRUE(s3.ok());
  write(work_.path() / "big.bin", random_bytes_of(6 * 1024 * 1024, 3));
  auto uploaded = upload_file(**s3, work_.path() / "big.bin", "missing-bucket", "big.bin");
  ASSERT_FALSE(uploaded.ok());
  EXPECT_NE(uploaded.error().message.find("bucket 'missing-bucket' does not exist at " + s3rver_.endpoint()),
            std::string::npos)
      << uploaded.error().message;
}

TEST_F(S3ClientTest, SyncUploadsNewAndChangedFilesAndDeletesRemovedOnes) {
  auto s3 = client();
  ASSERT_TRUE(s3);
  fs::path dags = work_.path() / "dags";
  for (int i = 0; i < 12; ++i) {
    write(dags / (i % 2 ? "etl" : "reports") / fmt::format("dag_{:02}.py", i), fmt::format("dag = {}\n", i));
  }
  ASSERT_TRUE(s3->put_object(kBucket, "elsewhere/keep.txt", "not under the prefix").ok());
  std::vector<std::string> lines;
  auto first = sync_directory(*s3, dags, kBucket, "dags", {}, [&](const std::string& line) { lines.push_back(line); });
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->uploaded, 12);
  EXPECT_EQ(first->deleted, 0);
  EXPECT_TRUE(std::is_sorted(first->uploaded_keys.begin(), first->uploaded_keys.end()));
  EXPECT_EQ(first->uploaded_keys.front(), "dags/etl/dag_01.py");
  EXPECT_EQ(aws_keys("dags/").size(), 12u);
  EXPECT_EQ(lines.size(), 13u);  // one per upload and the totals
  EXPECT_NE(lines.back().find("12 uploaded"), std::string::npos) << lines.back();

  auto second = sync_directory(*s3, dags, kBucket, "dags/");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->uploaded, 0);
  EXPECT_EQ(second->unchanged, 12);
  EXPECT_EQ(second->deleted, 0);

  write(dags / "etl" / "dag_01.py", "dag = X\n");       // same size: only the ETag tells
  write(dags / "reports" / "dag_04.py", "dag = 4  # longer now\n");
  fs::remove(dags / "etl" / "dag_03.py");
  write(dags / "new" / "dag_new.py", "new = True\n");
  auto third = sync_directory(*s3, dags, kBucket, "dags");
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->uploaded_keys,
            (std::vector<std::string>{"dags/etl/dag_01.py", "dags/new/dag_new.py", "dags/reports/dag_04.py"}));
  EXPECT_EQ(third->deleted_keys, (std::vector<std::string>{"dags/etl/dag_03.py"}));
  EXPECT_EQ(third->unchanged, 9);
  EXPECT_EQ(third->bytes_uploaded, 8 + 11 + 22);
  EXPECT_EQ(aws_cat("dags/etl/dag_01.py"), "dag = X\n");
  std::vector<std::string> keys = aws_keys("dags/");
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "dags/etl/dag_03.py"), 0);
  EXPECT_EQ(aws_keys("elsewhere/"), (std::vector<std::string>{"elsewhere/keep.txt"}));
}

TEST_F(S3ClientTest, SyncRefusesASymlinkLeadingOutOfTheFolderBeforeUploadingAnything) {
  auto s3 = client();
  ASSERT_TRUE(s3);
  fs::path dags = work_.path() / "dags";
  write(dags / "a.py", "a");
  write(work_.path() / "secret.txt", "not for publishing");
  fs::create_symlink(work_.path() / "secret.txt", dags / "z.py");
  auto synced = sync_directory(*s3, dags, kBucket, "dags");
  ASSERT_FALSE(synced.ok());
  EXPECT_NE(synced.error().message.find("outside"), std::string::npos) << synced.error().message;
  EXPECT_TRUE(aws_keys("dags/").empty());

  fs::remove(dags / "z.py");
  fs::create_symlink(dags / "a.py", dags / "b.py");  // inside: published as the file it points to
  auto inside = sync_directory(*s3, dags, kBucket, "dags");
  ASSERT_TRUE(inside.ok()) << inside.error().message;
  EXPECT_EQ(aws_keys("dags/"), (std::vector<std::string>{"dags/a.py", "dags/b.py"}));
}

TEST_F(S3ClientTest, MissingBucketIsNamedInTheError) {
  auto s3 = client();
  ASSERT_TRUE(s3);
  auto checked = s3->head_bucket("no-such-bucket");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("bucket 'no-such-bucket' does not exist at " + s3rver_.endpoint()),
            std::string::npos)
      << checked.error().message;
  write(work_.path() / "dags" / "a.py", "a");
  auto synced = sync_directory(*s3, work_.path() / "dags", "no-such-bucket", "dags");
  ASSERT_FALSE(synced.ok());
  EXPECT_NE(synced.error().message.find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << synced.error().message;
}

TEST_F(S3ClientTest, WrongCredentialsAreRefusedWithAnErrorThatSaysWhatToCheck) {
  auto wrong_secret = client("not-the-secret");
  ASSERT_TRUE(wrong_secret);
  auto checked = wrong_secret->head_bucket(kBucket);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find(s3rver_.endpoint() + " refused the credentials (SignatureDoesNotMatch)"),
            std::string::npos)
      << checked.error().message;
  EXPECT_NE(checked.error().message.find("check the secrets"), std::string::npos);
  auto put = wrong_secret->put_object(kBucket, "x.txt", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find("SignatureDoesNotMatch"), std::string::npos) << put.error().message;
  EXPECT_TRUE(aws_keys().empty());

  auto wrong_access = client(S3rverProcess::kSecretKey, "NOBODY");
  ASSERT_TRUE(wrong_access);
  auto listed = wrong_access->list_objects(kBucket, "");
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.error().message.find("refused the credentials (InvalidAccessKeyId)"), std::string::npos)
      << listed.error().message;
}

TEST_F(S3ClientTest, UnreachableEndpointIsATransportError) {
  s3rver_.stop();
  auto s3 = client();
  ASSERT_TRUE(s3);
  auto checked = s3->head_bucket(kBucket);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("cannot reach S3 at " + s3rver_.endpoint()), std::string::npos)
      << checked.error().message;
}

TEST(S3ClientOptions, RefusesWhatCannotWork) {
  S3Options options;
  options.endpoint = "http://127.0.0.1:4569";
  options.access_key = options.secret_key = "k";
  options.path_style = false;
  auto vhost_on_ip = S3Client::create(options);
  ASSERT_FALSE(vhost_on_ip.ok());
  EXPECT_NE(vhost_on_ip.error().message.find("IP address"), std::string::npos);
  options.path_style = true;
  options.part_size = 1024 * 1024;
  EXPECT_FALSE(S3Client::create(options).ok());
  options.part_size = 8 * 1024 * 1024;
  options.endpoint = "ftp://127.0.0.1";
  EXPECT_FALSE(S3Client::create(options).ok());
  options.endpoint = "http://127.0.0.1:4569";
  options.secret_key = "";
  EXPECT_FALSE(S3Client::create(options).ok());
}

}  // namespace
}  // namespace slipway
