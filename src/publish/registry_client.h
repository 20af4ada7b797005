// RegistryClient: the OCI Distribution API v2 as Slipway uses it — blob checks, chunked and
// monolithic uploads, cross-repository mounts, manifests by tag or digest, tags. It speaks plain
// http to loopback registries (127.0.0.0/8, localhost, ::1; as dockerd does) and https to the
// rest, authenticates on the first 401 (Basic or Bearer, registry_auth.h) and keeps doing so
// without another round trip. Every method returns an Error naming the registry and the cause
// ("refused the credentials for user 'alice'", "cannot reach the registry at ..."); a missing
// blob, manifest or repository is a value (nullopt, empty list), not an Error.
// One object per thread (it owns one HttpClient, reused for keep-alive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/http_client.h"
#include "base/result.h"
#include "publish/registry_auth.h"

namespace slipway {

namespace media_type {
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
}  // namespace media_type

struct RegistryEndpoint {
  std::string registry;              // "127.0.0.1:5000"
  RegistryCredentials credentials;
  std::string scheme;                // "" = http for loopback hosts, https otherwise
};

struct UploadOptions {
  int64_t chunk_bytes = 0;           // PATCH size; 0 = the whole blob in one PATCH
  // Called after each chunk with the bytes the registry has so far.
  std::function<void(int64_t uploaded)> on_progress;
};

struct Manifest {
  std::string media_type;            // the answer's Content-Type
  std::string body;                  // the exact bytes: their sha256 is the digest
  std::string digest;                // "sha256:..."
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryEndpoint endpoint);

  const std::string& registry() const { return endpoint_.registry; }
  const RegistryAuth& auth() const { return auth_; }

  // GET /v2/: checks that the registry answers and accepts the credentials.
  Status check_access();

  // From now on every request on `repository` asks for push access too, so that a push needs
  // one bearer token rather than one to read and another to write. No effect with Basic auth.
  void expect_push(const std::string& repository);

  // The blob's size, nullopt when the repository does not have it (HEAD, 404).
  Result<std::optional<int64_t>> blob_size(const std::string& repository, const std::string& digest);

  // Uploads [offset, offset + length) of `file` (length -1: to its end) as blob `digest`:
  // POST an upload, PATCH it chunk by chunk straight from the file (following each answer's
  // Location and resuming from its Range), PUT ?digest= to finish. The registry checks the
  // digest; a mismatch is an Error.
  Status upload_blob(const std::string& repository, const std::string& digest, const std::filesystem::path& file,
                     int64_t offset, int64_t length, const UploadOptions& options = {});
  // A small blob (an image config) from memory: POST, then one PUT with the body.
  Status upload_blob(const std::string& repository, const std::string& digest, const std::string& content);

  // A blob whose digest is known only once it has all been read (a layer taken out of an image
  // archive while the archive is still being written): POST, one PATCH streaming what `read`
  // gives (it fills the buffer and returns the byte count, 0 at the end, or an Error), hashing
  // it on the way, then PUT ?digest= with that hash. Returns the digest and the byte count.
  struct StreamedBlob {
    std::string digest;
    int64_t size = 0;
  };
  Result<StreamedBlob> upload_blob_stream(const std::string& repository,
                                          const std::function<Result<size_t>(char* buffer, size_t size)>& read);

  // Cross-repository mount: true when the registry linked the blob (201); false when it does
  // not have it in `from_repository` or cannot mount (202: the upload it started is cancelled).
  Result<bool> mount_blob(const std::string& repository, const std::string& digest, const std::string& from_repository);

  // PUT the manifest under `reference` (a tag or its digest); returns its digest, after
  // checking that the registry's Docker-Content-Digest is the sha256 of `body`.
  Result<std::string> put_manifest(const std::string& repository, const std::string& reference,
                                   const std::string& media_type, const std::string& body);

  // GET by tag or digest, accepting OCI and Docker v2 manifests and indexes; nullopt on 404.
  // A digest reference is checked against the body's sha256.
  Result<std::optional<Manifest>> get_manifest(const std::string& repository, const std::string& reference);

  // The digest a tag points at now (HEAD, Docker-Content-Digest); nullopt when there is no such tag.
  Result<std::optional<std::string>> resolve_digest(const std::string& repository, const std::string& tag);

  // Every tag of the repository (following Link pagination); empty when the repository is unknown.
  Result<std::vector<std::string>> list_tags(const std::string& repository);

  // DELETE a manifest by digest; false when it was not there.
  Result<bool> delete_manifest(const std::string& repository, const std::string& digest);

 private:
  std::vector<std::string> read_scopes(const std::string& repository) const;
  std::vector<std::string> write_scopes(const std::string& repository) const;
  Result<HttpClientResponse> send(HttpClientRequest request, const std::vector<std::string>& scopes);
  Error refused(const HttpClientRequest& request, const HttpClientResponse& answer);
  Result<std::string> start_upload(const std::string& repository, const std::vector<std::string>& scopes);
  Result<std::string> patch_chunks(const std::string& repository, std::string location, const std::filesystem::path& file,
                                   int64_t offset, int64_t length, const UploadOptions& options);
  Status finish_upload(const std::string& repository, const std::string& location, const std::string& digest,
                       const std::string& body);
  std::string url(const std::string& path) const;
  std::string resolve_location(const std::string& location, const std::string& request_url) const;
  Error failure(const std::string& what, const HttpClientResponse& answer) const;

  RegistryEndpoint endpoint_;
  std::string base_url_;             // "http://127.0.0.1:5000"
  RegistryAuth auth_;
  HttpClient http_;
  std::set<std::string> push_repositories_;
};

// True for 127.0.0.0/8, "localhost" and [::1] (with or without a port).
bool is_loopback_registry(const std::string& registry);

}  // namespace slipway
