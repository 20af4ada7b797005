// The XML that S3 speaks, read and written with pugixml: error bodies, ListObjectsV2 pages,
// multipart upload answers and the DeleteObjects and CompleteMultipartUpload request bodies.
// Parsers never throw; a body that is not the expected XML is an Error quoting its start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

// <Error><Code>NoSuchBucket</Code><Message>…</Message><Key>…</Key>…</Error>
struct S3ErrorBody {
  std::string code;
  std::string message;
  std::string key;          // when the error names an object
  std::string bucket_name;  // when it names a bucket
};
// nullopt when the body is empty or holds no <Error> element (S3 answers HEAD with no body).
std::optional<S3ErrorBody> parse_s3_error(std::string_view xml);

struct S3Object {
  std::string key;
  int64_t size = 0;
  std::string etag;  // without its quotes: "9b2cf5…" or "…-3" for a multipart upload
};

struct S3ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<S3ListPage> parse_list_objects_v2(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> parse_initiate_multipart_upload(std::string_view xml);

struct S3CompletedPart {
  int number = 0;
  std::string etag;  // as the UploadPart answer gave it
};
std::string complete_multipart_upload_body(const std::vector<S3CompletedPart>& parts);
// The ETag of a CompleteMultipartUploadResult (which may be a 200 carrying an <Error>: the
// caller checks parse_s3_error first).
Result<std::string> parse_complete_multipart_upload(std::string_view xml);

// <Delete><Quiet>true</Quiet><Object><Key>…</Key></Object>…</Delete>
std::string delete_objects_body(const std::vector<std::string>& keys);
// The <Error> entries of a DeleteResult: keys that were not deleted, and why.
Result<std::vector<S3ErrorBody>> parse_delete_result(std::string_view xml);

}  // namespace slipway
