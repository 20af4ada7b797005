// What the S3 client reads and writes without a server: S3's XML (errors, listing pages,
// multipart answers, the DeleteObjects body) including hostile or broken answers, and the ETags
// a sync computes from local files (plain MD5, and multipart "md5-of-part-md5s-N").
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/crypto.h"
#include "base/files.h"
#include "publish/s3_etag.h"
#include "publish/s3_xml.h"

namespace slipway {
namespace {

TEST(S3Xml, ReadsAnErrorBody) {
  auto error = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not "
      "exist.</Message><Key>dags/a &amp; b.py</Key><RequestId>1</RequestId></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "The specified key does not exist.");
  EXPECT_EQ(error->key, "dags/a & b.py");
  EXPECT_FALSE(parse_s3_error("").has_value());
  EXPECT_FALSE(parse_s3_error("<html>502 Bad Gateway</html>").has_value());
  EXPECT_FALSE(parse_s3_error("<Error><Code>unterminated").has_value());
}

TEST(S3Xml, ReadsAListingPage) {
  auto page = parse_list_objects_v2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>abc=</NextContinuationToken>"
      "<Contents><Key>dags/a.py</Key><Size>12</Size><ETag>&quot;9b2c&quot;</ETag></Contents>"
      "<Contents><Key>dags/big.bin</Key><Size>12582912</Size><ETag>\"77ab-3\"</ETag></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "abc=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].etag, "9b2c");
  EXPECT_EQ(page->objects[1].size, 12582912);
  EXPECT_EQ(page->objects[1].etag, "77ab-3");
}

TEST(S3Xml, RefusesBrokenListings) {
  EXPECT_FALSE(parse_list_objects_v2("not xml at all").ok());
  EXPECT_FALSE(parse_list_objects_v2("<Error><Code>AccessDenied</Code></Error>").ok());
  auto bad_size = parse_list_objects_v2(
      "<ListBucketResult><Contents><Key>k</Key><Size>12kB</Size></Contents></ListBucketResult>");
  ASSERT_FALSE(bad_size.ok());
  EXPECT_NE(bad_size.error().message.find("'k'"), std::string::npos);
  auto endless = parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  ASSERT_FALSE(endless.ok());  // a truncated page without a token would loop for ever
  EXPECT_NE(endless.error().message.find("NextContinuationToken"), std::string::npos);
}

TEST(S3Xml, WritesRequestBodiesWithKeysEscaped) {
  std::string body = delete_objects_body({"dags/a&b.py", "dags/<c>.py"});
  EXPECT_NE(body.find("<Quiet>true</Quiet>"), std::string::npos);
  EXPECT_NE(body.find("<Key>dags/a&amp;b.py</Key>"), std::string::npos) << body;
  EXPECT_NE(body.find("<Key>dags/&lt;c&gt;.py</Key>"), std::string::npos) << body;
  std::string complete = complete_multipart_upload_body({{1, "\"aa\""}, {2, "\"bb\""}});
  EXPECT_NE(complete.find("<Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"), std::string::npos)
      << complete;
}

TEST(S3Xml, ReadsMultipartAnswers) {
  auto upload = parse_initiate_multipart_upload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u-1</UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(*upload, "u-1");
  EXPECT_FALSE(parse_initiate_multipart_upload("<InitiateMultipartUploadResult/>").ok());
  auto done = parse_complete_multipart_upload(
      "<CompleteMultipartUploadResult><ETag>\"ff-2\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, "ff-2");
  auto failures = parse_delete_result(
      "<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].key, "a");
}

TEST(S3Etag, PartSizeGrowsToStayWithinTenThousandParts) {
  EXPECT_EQ(s3_part_size(12 << 20, 5 << 20), 5 << 20);
  EXPECT_EQ(s3_part_size(12 << 20, 1 << 20), kS3MinPartSize);
  int64_t huge = int64_t{100} << 30;  // 100 GiB in 8 MiB parts would be 12 800 parts
  int64_t part = s3_part_size(huge, 8 << 20);
  EXPECT_EQ(part, 16 << 20);
  EXPECT_LE(s3_part_count(huge, part), kS3MaxParts);
  EXPECT_EQ(s3_part_count(0, part), 1);
}

TEST(S3Etag, ComputesPlainAndMultipartEtagsOfAFile) {
  TemporaryDirectory folder("slipway-etag");
  std::string content(12 << 20, 'x');
  for (size_t i = 0; i < content.size(); i += 4093) content[i] = static_cast<char>(i & 0xff);
  std::filesystem::path file = folder.path() / "big.bin";
  std::ofstream(file, std::ios::binary) << content;
  const int64_t size = static_cast<int64_t>(content.size());
  const int64_t part = 5 << 20;

  std::string raw_md5s;
  for (int64_t offset = 0; offset < size; offset += part) {
    raw_md5s += *from_hex(md5_hex(std::string_view(content).substr(static_cast<size_t>(offset), static_cast<size_t>(part))));
  }
  std::string expected = md5_hex(raw_md5s) + "-3";
  auto computed = s3_multipart_etag(file, size, part);
  ASSERT_TRUE(computed.ok()) << computed.error().message;
  EXPECT_EQ(*computed, expected);

  EXPECT_TRUE(*s3_file_matches_etag(file, size, expected, part));
  EXPECT_TRUE(*s3_file_matches_etag(file, size, md5_hex(content), part));
  EXPECT_FALSE(*s3_file_matches_etag(file, size, md5_hex("other"), part));
  EXPECT_FALSE(*s3_file_matches_etag(file, size, md5_hex(raw_md5s) + "-4", part));  // other part count
  EXPECT_FALSE(*s3_file_matches_etag(file, size, "kms-etag-not-md5-x", part));
}

}  // namespace
}  // namespace slipway
