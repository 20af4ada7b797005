// The blob half of RegistryClient: upload sessions (POST, PATCH..., PUT ?digest=) and mounts.
#include <charconv>
#include <optional>
#include <system_error>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/strings.h"
#include "publish/registry_client.h"
#include "spec/image_reference.h"

namespace slipway {

namespace {

constexpr const char* kOctetStream = "application/octet-stream";
constexpr int kMaxStalledChunks = 3;

// The byte count a registry says it holds from a Range answer ("0-1023", or "bytes=0-1023"),
// or -1 when there is no usable Range.
int64_t received_bytes(const std::string& range) {
  size_t dash = range.rfind('-');
  if (dash == std::string::npos) return -1;
  int64_t last = -1;
  const char* begin = range.data() + dash + 1;
  auto [end, error] = std::from_chars(begin, range.data() + range.size(), last);
  if (error != std::errc() || end != range.data() + range.size() || last < 0) return -1;
  return last + 1;
}

std::string with_query(const std::string& url, const std::string& parameter) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + parameter;
}

}  // namespace

Result<std::string> RegistryClient::start_upload(const std::string& repository, const std::vector<std::string>& scopes) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = url("/v2/" + repository + "/blobs/uploads/");
  auto answer = send(request, scopes);
  if (!answer) return answer.error();
  if (answer->status != 202) return failure("start a blob upload in " + repository, *answer);
  std::string location = answer->headers.get("Location");
  if (location.empty()) return make_error(fmt::format("registry {} started an upload without a Location", endpoint_.registry));
  return resolve_location(location, request.url);
}

// PATCHes [offset, offset + length) chunk by chunk; returns the Location to finish at. Each
// answer's Location replaces the last (distribution carries the session's state in it) and its
// Range says where to go on from, so a chunk the registry only partly kept is sent again.
Result<std::string> RegistryClient::patch_chunks(const std::string& repository, std::string location,
                                                 const std::filesystem::path& file, int64_t offset, int64_t length,
                                                 const UploadOptions& options) {
  int64_t sent = 0;
  int stalled = 0;
  while (sent < length) {
    int64_t chunk = options.chunk_bytes > 0 ? std::min(options.chunk_bytes, length - sent) : length - sent;
    HttpClientRequest request;
    request.method = "PATCH";
    request.url = location;
    request.headers.set("Content-Type", kOctetStream);
    request.headers.set("Content-Range", fmt::format("{}-{}", sent, sent + chunk - 1));
    request.body_file = file;
    request.body_offset = offset + sent;
    request.body_length = chunk;
    auto answer = send(request, write_scopes(repository));
    if (!answer) return answer.error();
    if (answer->status != 202) {
      return failure(fmt::format("take bytes {}-{} of {}", sent, sent + chunk - 1, file.filename().string()), *answer);
    }
    if (std::string next = answer->headers.get("Location"); !next.empty()) location = resolve_location(next, request.url);
    int64_t received = received_bytes(answer->headers.get("Range"));
    if (received < 0) received = sent + chunk;
    if (received > sent + chunk) {
      return make_error(fmt::format("registry {} claims {} bytes of an upload after being sent {}", endpoint_.registry,
                                    received, sent + chunk));
    }
    stalled = received > sent ? 0 : stalled + 1;
    if (stalled == kMaxStalledChunks) {
      return make_error(fmt::format("registry {} keeps the upload of {} at {} bytes: it takes no more data",
                                    endpoint_.registry, file.filename().string(), received));
    }
    sent = received;
    if (options.on_progress) options.on_progress(sent);
  }
  return location;
}

Status RegistryClient::finish_upload(const std::string& repository, const std::string& location,
                                     const std::string& digest, const std::string& body) {
  HttpClientRequest request;
  request.method = "PUT";
  request.url = with_query(location, "digest=" + percent_encode(digest));
  request.headers.set("Content-Type", kOctetStream);
  request.body = body;
  auto answer = send(request, write_scopes(repository));
  if (!answer) return answer.error();
  if (answer->status != 201) return failure(fmt::format("finish the upload of {} to {}", digest, repository), *answer);
  return {};
}

Status RegistryClient::upload_blob(const std::string& repository, const std::string& digest,
                                   const std::filesystem::path& file, int64_t offset, int64_t length,
                                   const UploadOptions& options) {
  if (Status valid = check_repository_path(repository); !valid) return valid;
  if (Status valid = check_digest(digest); !valid) return valid;
  std::error_code error;
  auto file_size = static_cast<int64_t>(std::filesystem::file_size(file, error));
  if (error) return make_error(fmt::format("cannot upload {}: {}", file.string(), error.message()));
  if (length < 0) length = file_size - offset;
  if (offset < 0 || length < 0 || offset + length > file_size) {
    return make_error(fmt::format("cannot upload bytes {}+{} of {}: the file has {} bytes", offset, length, file.string(), file_size));
  }
  auto location = start_upload(repository, write_scopes(repository));
  if (!location) return location.error();
  auto finish_at = patch_chunks(repository, *location, file, offset, length, options);
  Status finished = finish_at ? finish_upload(repository, *finish_at, digest, "") : Status(finish_at.error());
  if (!finished) {
    // Best effort: the session would otherwise linger in the registry until its purge.
    HttpClientRequest cancel;
    cancel.method = "DELETE";
    cancel.url = finish_at ? *finish_at : *location;
    (void)send(cancel, write_scopes(repository));
  }
  return finished;
}

Result<RegistryClient::StreamedBlob> RegistryClient::upload_blob_stream(
    const std::string& repository, const std::function<Result<size_t>(char* buffer, size_t size)>& read) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  auto location = start_upload(repository, write_scopes(repository));
  if (!location) return location.error();
  Digester digester;
  StreamedBlob blob;
  std::optional<Error> read_failed;
  HttpClientRequest patch;
  patch.method = "PATCH";
  patch.url = *location;
  patch.headers.set("Content-Type", kOctetStream);
  // A read error ends the body early; the truncated upload is then cancelled, never finished.
  patch.body_stream = [&](char* buffer, size_t size) -> size_t {
    auto got = read(buffer, size);
    if (!got) {
      read_failed = got.error();
      return 0;
    }
    digester.update(std::string_view(buffer, *got));
    blob.size += static_cast<int64_t>(*got);
    return *got;
  };
  auto cancel = [&](const std::string& at) {
    HttpClientRequest request;
    request.method = "DELETE";
    request.url = at;
    (void)send(request, write_scopes(repository));
  };
  auto answer = send(patch, write_scopes(repository));
  if (read_failed || !answer || answer->status != 202) {
    cancel(*location);
    if (read_failed) return *read_failed;
    if (!answer) return answer.error();
    return failure(fmt::format("take a streamed blob into {}", repository), *answer);
  }
  std::string finish_at = *location;
  if (std::string next = answer->headers.get("Location"); !next.empty()) finish_at = resolve_location(next, patch.url);
  if (int64_t received = received_bytes(answer->headers.get("Range")); blob.size > 0 && received >= 0 && received != blob.size) {
    cancel(finish_at);
    return make_error(fmt::format("registry {} kept {} bytes of a {}-byte streamed blob", endpoint_.registry, received,
                                  blob.size));
  }
  blob.digest = "sha256:" + digester.hex();
  if (Status finished = finish_upload(repository, finish_at, blob.digest, ""); !finished) {
    cancel(finish_at);
    return finished.error();
  }
  return blob;
}

Status RegistryClient::upload_blob(const std::string& repository, const std::string& digest, const std::string& content) {
  if (Status valid = check_repository_path(repository); !valid) return valid;
  if (Status valid = check_digest(digest); !valid) return valid;
  if (std::string actual = "sha256:" + sha256_hex(content); actual != digest) {
    return make_error(fmt::format("cannot upload blob {}: its content's digest is {}", digest, actual));
  }
  auto location = start_upload(repository, write_scopes(repository));
  if (!location) return location.error();
  return finish_upload(repository, *location, digest, content);
}

Result<bool> RegistryClient::mount_blob(const std::string& repository, const std::string& digest,
                                        const std::string& from_repository) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  if (Status valid = check_repository_path(from_repository); !valid) return valid.error();
  if (Status valid = check_digest(digest); !valid) return valid.error();
  HttpClientRequest request;
  request.method = "POST";
  request.url = url(fmt::format("/v2/{}/blobs/uploads/?mount={}&from={}", repository, percent_encode(digest),
                                percent_encode(from_repository)));
  std::vector<std::string> scopes = write_scopes(repository);
  scopes.push_back(repository_scope(from_repository, "pull"));
  auto answer = send(request, scopes);
  if (!answer) return answer.error();
  if (answer->status == 201) return true;
  if (answer->status != 202) {
    return failure(fmt::format("mount {} from {} into {}", digest, from_repository, repository), *answer);
  }
  // The registry could not mount and opened an ordinary upload instead: close it.
  if (std::string location = answer->headers.get("Location"); !location.empty()) {
    HttpClientRequest cancel;
    cancel.method = "DELETE";
    cancel.url = resolve_location(location, request.url);
    (void)send(cancel, write_scopes(repository));
  }
  return false;
}

}  // namespace slipway
