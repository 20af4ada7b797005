// S3Client: the S3 operations publishing needs — checking a bucket, listing, uploading (in parts
// above a threshold, aborted on failure so no half upload is left), deleting, reading — signed
// with SigV4 and sent through HttpClient, with path-style or virtual-host-style addressing.
// Every failure is an Error naming the operation, the s3:// address and the endpoint, with S3's
// Code and Message, and what to do for the common ones (missing bucket, refused credentials).
// One request at a time: thread-compatible, like HttpClient.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/http_client.h"
#include "base/result.h"
#include "publish/s3_xml.h"
#include "publish/sigv4.h"

namespace slipway {

struct S3Options {
  std::string endpoint;                          // "http://127.0.0.1:4569"; "": https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;                     // temporary credentials only
  // Path style (http://host/bucket/key) works with every S3 server and with an IP endpoint.
  // Virtual-host style (http://bucket.host/key) is what AWS prefers; with a loopback name
  // ("localhost", "s3.localhost") the connection still goes to 127.0.0.1.
  bool path_style = true;
  int64_t multipart_threshold = 16 * 1024 * 1024;  // files larger than this are uploaded in parts
  int64_t part_size = 8 * 1024 * 1024;             // at least 5 MiB (S3's minimum); grown past 10 000 parts
  Milliseconds timeout{300'000};                   // for one request
};

class S3Client {
 public:
  // An Error when the endpoint is not an http(s) URL, a credential is empty, the part size is
  // below 5 MiB, or virtual-host style is asked of an IP-address endpoint.
  static Result<std::unique_ptr<S3Client>> create(S3Options options);

  // Succeeds when the bucket exists and the credentials may use it. Errors say "bucket 'x' does
  // not exist at ENDPOINT" or "ENDPOINT refused the credentials (Code): check the secrets …".
  Status head_bucket(const std::string& bucket);

  // Every object under `prefix` (all pages of ListObjectsV2), in S3's order (by key).
  Result<std::vector<S3Object>> list_objects(const std::string& bucket, const std::string& prefix);

  // One PUT with Content-MD5 and the payload's SHA-256 signed. Returns the ETag (no quotes).
  Result<std::string> put_object(const std::string& bucket, const std::string& key, std::string_view content);

  // Streams the file: one PUT (Content-MD5, unsigned payload) up to the multipart threshold,
  // else a multipart upload, aborted if any step fails. `md5_hex`, when the caller already has
  // the file's MD5, saves reading it twice. Returns the ETag S3 gave the object.
  Result<std::string> put_file(const std::string& bucket, const std::string& key, const std::filesystem::path& file,
                               const std::string& md5_hex = "");

  Result<std::string> get_object(const std::string& bucket, const std::string& key);

  // DeleteObjects in batches of 1 000; one DELETE per key where the server lacks DeleteObjects.
  // Deleting a key that does not exist is not an error (as in S3).
  Status delete_objects(const std::string& bucket, const std::vector<std::string>& keys);
  Status delete_object(const std::string& bucket, const std::string& key);

  const S3Options& options() const { return options_; }
  const std::string& endpoint() const { return endpoint_; }  // as shown in messages

 private:
  // One S3 call: what it is (for messages), where it goes and what it carries.
  struct Request {
    std::string operation;            // "PutObject": named in error messages
    std::string method = "GET";
    std::string bucket;
    std::string key;                  // "" for an operation on the bucket
    std::string query;                // already percent-encoded
    HttpHeaders headers;              // besides Host and the signature's
    std::string body;
    std::filesystem::path body_file;  // sent instead of `body` when set
    int64_t body_offset = 0;
    int64_t body_length = -1;
    std::string payload_hash;         // "": the SHA-256 of `body`
  };
  struct Endpoint {
    std::string scheme;  // "http" or "https"
    std::string host;    // without the port
    std::string port;    // "" when the scheme's default
  };

  S3Client(S3Options options, Endpoint parsed, std::string endpoint);
  Result<HttpClientResponse> send(Request& request);
  Result<HttpClientResponse> send_once(Request& request);
  HttpClientRequest to_http(const Request& request) const;
  std::string failure(const Request& request, const HttpClientResponse& response) const;
  Result<std::string> put_multipart(const std::string& bucket, const std::string& key,
                                    const std::filesystem::path& file, int64_t size);
  Result<std::string> upload_parts(const std::string& bucket, const std::string& key,
                                   const std::filesystem::path& file, int64_t size, const std::string& upload_id);
  Status delete_batch(const std::string& bucket, const std::vector<std::string>& keys);

  S3Options options_;
  Endpoint parsed_;
  std::string endpoint_;
  HttpClient http_;
};

}  // namespace slipway
