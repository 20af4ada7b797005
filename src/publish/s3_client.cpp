#include "publish/s3_client.h"

#include <arpa/inet.h>

#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/strings.h"
#include "publish/s3_etag.h"

namespace slipway {

namespace {

constexpr int kAttempts = 3;             // a request that meets a 500, a 503 or a dropped connection
constexpr size_t kDeleteBatch = 1000;    // DeleteObjects takes at most 1 000 keys

bool is_ip_address(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1 ||
         starts_with(host, "[");
}

bool is_loopback_name(const std::string& host) { return host == "localhost" || ends_with(host, ".localhost"); }

std::string parameter(std::string_view name, std::string_view value) {
  return percent_encode(name) + "=" + percent_encode(value);
}

std::string content_md5(std::string_view md5_hex) {
  auto raw = from_hex(md5_hex);
  return raw ? to_base64(*raw) : "";
}

std::string unquoted_etag(const HttpClientResponse& response) {
  std::string etag = response.headers.get("ETag");
  return etag.size() >= 2 && etag.front() == '"' && etag.back() == '"' ? etag.substr(1, etag.size() - 2) : etag;
}

// Which hint fits a refusal: S3 says why in the Code of its error body (absent after a HEAD).
bool is_credentials_code(const std::string& code) {
  return code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "InvalidToken" ||
         code == "ExpiredToken" || code == "AuthorizationHeaderMalformed";
}

}  // namespace

Result<std::unique_ptr<S3Client>> S3Client::create(S3Options options) {
  std::string endpoint = options.endpoint.empty() ? "https://s3." + options.region + ".amazonaws.com" : options.endpoint;
  while (ends_with(endpoint, "/")) endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  Endpoint parsed;
  parsed.scheme = scheme_end == std::string::npos ? "" : endpoint.substr(0, scheme_end);
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return make_error(fmt::format("S3 endpoint '{}' is not an http:// or https:// URL", endpoint));
  }
  std::string authority = endpoint.substr(scheme_end + 3);
  if (authority.empty() || authority.find_first_of("/?#@") != std::string::npos) {
    return make_error(fmt::format("S3 endpoint '{}' must be scheme://host[:port], without a path", endpoint));
  }
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
  parsed.host = has_port ? authority.substr(0, colon) : authority;
  parsed.port = has_port ? authority.substr(colon + 1) : "";
  if (options.access_key.empty() || options.secret_key.empty()) {
    return make_error(fmt::format("S3 at {}: the access key or the secret key is empty: set both secrets", endpoint));
  }
  if (options.part_size < kS3MinPartSize) {
    return make_error(fmt::format("S3 part size {} is below S3's minimum of 5 MiB ({} bytes)", options.part_size,
                                  kS3MinPartSize));
  }
  if (!options.path_style && is_ip_address(parsed.host)) {
    return make_error(fmt::format("S3 endpoint {} is an IP address, which cannot carry a bucket name: use path-style "
                                  "addressing, or a host name (e.g. s3.localhost) for virtual-host style",
                                  endpoint));
  }
  return std::unique_ptr<S3Client>(new S3Client(std::move(options), std::move(parsed), std::move(endpoint)));
}

S3Client::S3Client(S3Options options, Endpoint parsed, std::string endpoint)
    : options_(std::move(options)), parsed_(std::move(parsed)), endpoint_(std::move(endpoint)) {}

HttpClientRequest S3Client::to_http(const Request& request) const {
  std::string port = parsed_.port.empty() ? "" : ":" + parsed_.port;
  std::string host = parsed_.host;
  std::string path = "/";
  if (options_.path_style) {
    if (!request.bucket.empty()) path += request.bucket + (request.key.empty() ? "" : "/");
  } else if (!request.bucket.empty()) {
    host = request.bucket + "." + host;
  }
  path += percent_encode(request.key, /*keep_slash=*/true);

  HttpClientRequest http;
  http.method = request.method;
  http.url = parsed_.scheme + "://" + host + port + path + (request.query.empty() ? "" : "?" + request.query);
  http.headers = request.headers;
  http.headers.set("Host", host + port);
  // A bucket.localhost name is for the Host header; the server is on the loopback address.
  if (!options_.path_style && is_loopback_name(parsed_.host)) {
    http.connect_to = "127.0.0.1:" + (parsed_.port.empty() ? std::string(parsed_.scheme == "https" ? "443" : "80")
                                                            : parsed_.port);
  }
  http.body = request.body;
  http.body_file = request.body_file;
  http.body_offset = request.body_offset;
  http.body_length = request.body_length;
  http.timeout = options_.timeout;
  return http;
}

Result<HttpClientResponse> S3Client::send_once(Request& request) {
  HttpClientRequest http = to_http(request);
  SigV4Request signing;
  signing.method = http.method;
  size_t path_start = http.url.find('/', http.url.find("://") + 3);
  size_t query_start = http.url.find('?', path_start);
  signing.path = http.url.substr(path_start, query_start - path_start);
  signing.query = request.query;
  signing.headers = http.headers;
  signing.payload_hash = request.payload_hash.empty() ? sha256_hex(request.body) : request.payload_hash;
  SigV4Credentials credentials{options_.access_key, options_.secret_key, options_.session_token};
  sigv4_sign(signing, credentials, SigV4Scope{options_.region, "s3", true}, Clock::now());
  http.headers = signing.headers;

  auto response = http_.send(http);
  if (!response) {
    return make_error(fmt::format("cannot reach S3 at {} for {} s3://{}/{}: {} (is the endpoint right and the "
                                  "service up?)",
                                  endpoint_, request.operation, request.bucket, request.key, response.error().message));
  }
  return response;
}

Result<HttpClientResponse> S3Client::send(Request& request) {
  for (int attempt = 1;; ++attempt) {
    auto response = send_once(request);
    bool transient = !response || response->status == 500 || response->status == 503;
    if (!transient || attempt == kAttempts) return response;
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt * attempt));
  }
}

std::string S3Client::failure(const Request& request, const HttpClientResponse& response) const {
  std::optional<S3ErrorBody> error = parse_s3_error(response.body);
  std::string code = error ? error->code : "";
  std::string said = error && !error->message.empty() ? ": " + error->message : "";
  std::string address = "s3://" + request.bucket + (request.key.empty() ? "" : "/" + request.key);
  if (code == "NoSuchBucket" || (code.empty() && response.status == 404 && request.key.empty())) {
    return fmt::format("bucket '{}' does not exist at {} ({} answered HTTP {}{}): create it, or correct the bucket "
                       "in the environment's configuration",
                       request.bucket, endpoint_, request.operation, response.status,
                       code.empty() ? "" : " " + code);
  }
  if (is_credentials_code(code) || (code.empty() && response.status == 403)) {
    return fmt::format("{} refused the credentials ({}) for {} on bucket '{}': check the secrets that hold the "
                       "access key and the secret key",
                       endpoint_, code.empty() ? "HTTP 403" : code, request.operation, request.bucket);
  }
  std::string region = response.headers.get("x-amz-bucket-region");
  std::string hint = region.empty() || region == options_.region
                         ? ""
                         : fmt::format(" (the bucket is in region {}: configure that region)", region);
  return fmt::format("S3 {} {} at {} failed: HTTP {}{}{}{}", request.operation, address, endpoint_, response.status,
                     code.empty() ? "" : " " + code, said, hint);
}

Status S3Client::head_bucket(const std::string& bucket) {
  Request head{"HeadBucket", "HEAD", bucket};
  auto response = send(head);
  if (!response) return response.error();
  if (response->status >= 200 && response->status < 300) return {};
  // A HEAD answer has no body to say why; the same question as a GET brings S3's error Code.
  Request list{"HeadBucket", "GET", bucket, "", "list-type=2&max-keys=0"};
  auto explained = send(list);
  if (explained && explained->status >= 300) return make_error(failure(list, *explained));
  return make_error(failure(head, *response));
}

Result<std::vector<S3Object>> S3Client::list_objects(const std::string& bucket, const std::string& prefix) {
  std::vector<S3Object> objects;
  std::string token;
  do {
    Request list{"ListObjectsV2", "GET", bucket, "", "list-type=2&" + parameter("prefix", prefix)};
    if (!token.empty()) list.query += "&" + parameter("continuation-token", token);
    auto response = send(list);
    if (!response) return response.error();
    if (response->status != 200) return make_error(failure(list, *response));
    auto page = parse_list_objects_v2(response->body);
    if (!page) return make_error(fmt::format("S3 ListObjectsV2 s3://{}/{} at {}: {}", bucket, prefix, endpoint_,
                                             page.error().message));
    for (S3Object& object : page->objects) objects.push_back(std::move(object));
    token = page->truncated ? page->next_continuation_token : "";
  } while (!token.empty());
  return objects;
}

Result<std::string> S3Client::put_object(const std::string& bucket, const std::string& key, std::string_view content) {
  Request put{"PutObject", "PUT", bucket, key};
  put.body = std::string(content);
  put.headers.set("Content-MD5", content_md5(md5_hex(content)));
  auto response = send(put);
  if (!response) return response.error();
  if (response->status != 200) return make_error(failure(put, *response));
  return unquoted_etag(*response);
}

Result<std::string> S3Client::put_file(const std::string& bucket, const std::string& key,
                                       const std::filesystem::path& file, const std::string& md5_hex) {
  std::error_code error;
  auto size = static_cast<int64_t>(std::filesystem::file_size(file, error));
  if (error) return make_error(fmt::format("cannot upload {} to s3://{}/{}: {}", file.string(), bucket, key, error.message()));
  if (size > options_.multipart_threshold) return put_multipart(bucket, key, file, size);

  std::string md5 = md5_hex;
  if (md5.empty()) {
    auto computed = md5_file_hex(file.string());
    if (!computed) return computed.error();
    md5 = *computed;
  }
  Request put{"PutObject", "PUT", bucket, key};
  put.body_file = file;
  put.payload_hash = std::string(kUnsignedPayload);  // Content-MD5 guards the content; no second read for SHA-256
  put.headers.set("Content-MD5", content_md5(md5));
  auto response = send(put);
  if (!response) return response.error();
  if (response->status != 200) return make_error(failure(put, *response));
  return unquoted_etag(*response);
}

Result<std::string> S3Client::get_object(const std::string& bucket, const std::string& key) {
  Request get{"GetObject", "GET", bucket, key};
  auto response = send(get);
  if (!response) return response.error();
  if (response->status != 200) return make_error(failure(get, *response));
  return std::move(response->body);
}

Status S3Client::delete_object(const std::string& bucket, const std::string& key) {
  Request remove{"DeleteObject", "DELETE", bucket, key};
  auto response = send(remove);
  if (!response) return response.error();
  if (response->status != 204 && response->status != 200) return make_error(failure(remove, *response));
  return {};
}

Status S3Client::delete_objects(const std::string& bucket, const std::vector<std::string>& keys) {
  for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
    std::vector<std::string> batch(keys.begin() + static_cast<ptrdiff_t>(start),
                                   keys.begin() + static_cast<ptrdiff_t>(std::min(keys.size(), start + kDeleteBatch)));
    if (Status deleted = delete_batch(bucket, batch); !deleted) return deleted;
  }
  return {};
}

Status S3Client::delete_batch(const std::string& bucket, const std::vector<std::string>& keys) {
  Request remove{"DeleteObjects", "POST", bucket, "", "delete"};
  remove.body = delete_objects_body(keys);
  remove.headers.set("Content-MD5", content_md5(md5_hex(remove.body)));
  remove.headers.set("Content-Type", "application/xml");
  auto response = send(remove);
  if (!response) return response.error();
  std::optional<S3ErrorBody> error = parse_s3_error(response->body);
  if (response->status == 501 || (error && error->code == "NotImplemented")) {
    for (const std::string& key : keys) {  // a server without DeleteObjects: one request per key
      if (Status deleted = delete_object(bucket, key); !deleted) return deleted;
    }
    return {};
  }
  if (response->status != 200 || error) return make_error(failure(remove, *response));
  auto failed = parse_delete_result(response->body);
  if (!failed) return make_error(fmt::format("S3 DeleteObjects s3://{} at {}: {}", bucket, endpoint_, failed.error().message));
  if (!failed->empty()) {
    const S3ErrorBody& first = failed->front();
    return make_error(fmt::format("S3 DeleteObjects at {} could not delete {} of {} keys; s3://{}/{}: {}: {}", endpoint_,
                                  failed->size(), keys.size(), bucket, first.key, first.code, first.message));
  }
  return {};
}

}  // namespace slipway

namespace slipway {

// Start, parts, complete; if anything fails after the start, the upload is aborted so S3 keeps
// no parts of it (an unfinished upload is invisible but billed, and stays until aborted).
Result<std::string> S3Client::put_multipart(const std::string& bucket, const std::string& key,
                                            const std::filesystem::path& file, int64_t size) {
  Request start{"CreateMultipartUpload", "POST", bucket, key, "uploads"};
  auto started = send(start);
  if (!started) return started.error();
  if (started->status != 200) return make_error(failure(start, *started));
  auto upload_id = parse_initiate_multipart_upload(started->body);
  if (!upload_id) {
    return make_error(fmt::format("S3 CreateMultipartUpload s3://{}/{} at {}: {}", bucket, key, endpoint_,
                                  upload_id.error().message));
  }
  auto etag = upload_parts(bucket, key, file, size, *upload_id);
  if (etag) return etag;

  Request abort{"AbortMultipartUpload", "DELETE", bucket, key, parameter("uploadId", *upload_id)};
  auto aborted = send(abort);
  if (!aborted) return make_error(etag.error().message + "; aborting the upload failed too: " + aborted.error().message);
  if (aborted->status != 204 && aborted->status != 200) {
    return make_error(etag.error().message + "; aborting the upload failed too: " + failure(abort, *aborted));
  }
  return make_error(etag.error().message + " (the multipart upload was aborted: nothing of it remains)");
}

Result<std::string> S3Client::upload_parts(const std::string& bucket, const std::string& key,
                                           const std::filesystem::path& file, int64_t size,
                                           const std::string& upload_id) {
  int64_t part_size = s3_part_size(size, options_.part_size);
  int64_t count = s3_part_count(size, part_size);
  std::vector<S3CompletedPart> parts;
  for (int64_t number = 1; number <= count; ++number) {
    int64_t offset = (number - 1) * part_size;
    int64_t length = std::min(part_size, size - offset);
    auto md5 = md5_file_hex(file.string(), offset, length);
    if (!md5) return md5.error();
    Request part{"UploadPart", "PUT", bucket, key,
                 fmt::format("partNumber={}&{}", number, parameter("uploadId", upload_id))};
    part.body_file = file;
    part.body_offset = offset;
    part.body_length = length;
    part.payload_hash = std::string(kUnsignedPayload);
    part.headers.set("Content-MD5", content_md5(*md5));
    auto response = send(part);
    if (!response) return response.error();
    if (response->status != 200) return make_error(failure(part, *response));
    parts.push_back({static_cast<int>(number), response->headers.get("ETag")});
  }
  Request complete{"CompleteMultipartUpload", "POST", bucket, key, parameter("uploadId", upload_id)};
  complete.body = complete_multipart_upload_body(parts);
  complete.headers.set("Content-Type", "application/xml");
  auto response = send(complete);
  if (!response) return response.error();
  // S3 may answer 200 and still fail: the error is then in the body.
  if (response->status != 200 || parse_s3_error(response->body)) return make_error(failure(complete, *response));
  auto etag = parse_complete_multipart_upload(response->body);
  if (!etag) {
    return make_error(fmt::format("S3 CompleteMultipartUpload s3://{}/{} at {}: {}", bucket, key, endpoint_,
                                  etag.error().message));
  }
  return etag;
}

}  // namespace slipway
