#include "publish/registry_client.h"

#include <charconv>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/strings.h"
#include "publish/registry_errors.h"
#include "spec/image_reference.h"

namespace slipway {

namespace {

// Small requests end in a minute even if the registry hangs; uploads have no overall limit.
constexpr Milliseconds kRequestTimeout{60'000};

const std::string kManifestAccept = join({media_type::oci_manifest, media_type::oci_index, media_type::docker_manifest,
                                          media_type::docker_manifest_list},
                                         ", ");

std::string host_of(const std::string& registry) {
  if (starts_with(registry, "[")) return registry.substr(0, registry.find(']') + 1);
  return registry.substr(0, registry.find(':'));
}

// "application/vnd.oci.image.manifest.v1+json; charset=utf-8" -> the media type alone.
std::string bare_media_type(const std::string& content_type) {
  return std::string(trim(std::string_view(content_type).substr(0, content_type.find(';'))));
}

// The target of a Link header's rel="next", or "" (RFC 5988: `<url>; rel="next"`).
std::string next_link(const std::string& link) {
  if (link.find("rel=\"next\"") == std::string::npos && link.find("rel=next") == std::string::npos) return "";
  size_t open = link.find('<');
  size_t close = link.find('>', open);
  return open == std::string::npos || close == std::string::npos ? "" : link.substr(open + 1, close - open - 1);
}

}  // namespace

bool is_loopback_registry(const std::string& registry) {
  std::string host = host_of(registry);
  return host == "localhost" || host == "[::1]" || starts_with(host, "127.");
}

RegistryClient::RegistryClient(RegistryEndpoint endpoint)
    : endpoint_(std::move(endpoint)), auth_(endpoint_.registry, endpoint_.credentials) {
  std::string scheme = endpoint_.scheme.empty() ? (is_loopback_registry(endpoint_.registry) ? "http" : "https")
                                                : endpoint_.scheme;
  base_url_ = scheme + "://" + endpoint_.registry;
}

std::string RegistryClient::url(const std::string& path) const { return base_url_ + path; }

void RegistryClient::expect_push(const std::string& repository) { push_repositories_.insert(repository); }

std::vector<std::string> RegistryClient::read_scopes(const std::string& repository) const {
  return {repository_scope(repository, push_repositories_.count(repository) ? "pull,push" : "pull")};
}

std::vector<std::string> RegistryClient::write_scopes(const std::string& repository) const {
  return {repository_scope(repository, "pull,push")};
}

Result<HttpClientResponse> RegistryClient::send(HttpClientRequest request, const std::vector<std::string>& scopes) {
  bool streamed = static_cast<bool>(request.body_stream);
  if (request.timeout.count() == 0 && request.body_file.empty() && !streamed) request.timeout = kRequestTimeout;
  bool answered_challenge = false;
  while (true) {
    std::string authorization = auth_.authorization(scopes);
    if (!authorization.empty()) request.headers.set("Authorization", authorization);
    auto answer = http_.send(request);
    if (!answer) return unreachable_registry(endpoint_.registry, answer.error());
    if (answer->status != 401) return answer;
    // A Basic password already refused, or a fresh token refused: asking again changes nothing.
    // A streamed body cannot be sent twice either.
    bool basic_refused = starts_with(authorization, "Basic ");
    if (answered_challenge || basic_refused || streamed) return refused(request, *answer);
    std::string challenge = answer->headers.get("WWW-Authenticate");
    if (challenge.empty()) return refused(request, *answer);
    if (Status answered = auth_.answer_challenge(challenge, scopes, http_); !answered) return answered.error();
    answered_challenge = true;
  }
}

Error RegistryClient::refused(const HttpClientRequest& request, const HttpClientResponse& answer) {
  std::string body = answer.body;
  // A HEAD answer has no body; the registry's own words come from GET /v2/ with the same header.
  if (body.empty() && request.method == "HEAD") {
    HttpClientRequest probe;
    probe.url = url("/v2/");
    probe.timeout = kRequestTimeout;
    if (request.headers.has("Authorization")) probe.headers.set("Authorization", request.headers.get("Authorization"));
    if (auto second = http_.send(probe); second && second->status == 401) body = second->body;
  }
  std::string registry_said = describe_registry_answer(answer.status, body);
  if (!auth_.has_credentials()) {
    return make_error(fmt::format("registry {} requires credentials and none were given ({}): set the environment's "
                                  "registry username and password",
                                  endpoint_.registry, registry_said));
  }
  return make_error(fmt::format("registry {} refused the credentials for user '{}' ({})", endpoint_.registry,
                                auth_.username(), registry_said));
}

Error RegistryClient::failure(const std::string& what, const HttpClientResponse& answer) const {
  std::string registry_said = describe_registry_answer(answer.status, answer.body);
  if (answer.status == 403) {
    return make_error(fmt::format("registry {} denied user '{}' the right to {} ({})", endpoint_.registry,
                                  auth_.username(), what, registry_said));
  }
  return make_error(fmt::format("registry {} could not {}: {}", endpoint_.registry, what, registry_said));
}

std::string RegistryClient::resolve_location(const std::string& location, const std::string& request_url) const {
  if (location.find("://") != std::string::npos) return location;
  if (starts_with(location, "/")) return base_url_ + location;
  std::string directory = request_url.substr(0, request_url.find('?'));
  return directory.substr(0, directory.rfind('/') + 1) + location;
}

Status RegistryClient::check_access() {
  HttpClientRequest request;
  request.url = url("/v2/");
  auto answer = send(request, {});
  if (!answer) return answer.error();
  if (answer->status != 200) return failure("answer the API version check (GET /v2/)", *answer);
  return {};
}

Result<std::optional<int64_t>> RegistryClient::blob_size(const std::string& repository, const std::string& digest) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  if (Status valid = check_digest(digest); !valid) return valid.error();
  HttpClientRequest request;
  request.method = "HEAD";
  request.url = url("/v2/" + repository + "/blobs/" + digest);
  auto answer = send(request, read_scopes(repository));
  if (!answer) return answer.error();
  if (answer->status == 404) return std::optional<int64_t>();
  if (answer->status != 200) return failure(fmt::format("check blob {} in {}", digest, repository), *answer);
  std::string length = answer->headers.get("Content-Length");
  int64_t size = -1;
  auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), size);
  if (error != std::errc() || end != length.data() + length.size() || size < 0) {
    return make_error(fmt::format("registry {} answered HEAD blob {} without a valid Content-Length ('{}')",
                                  endpoint_.registry, digest, length));
  }
  return std::optional<int64_t>(size);
}

Result<std::string> RegistryClient::put_manifest(const std::string& repository, const std::string& reference,
                                                 const std::string& media_type, const std::string& body) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  Status reference_ok = starts_with(reference, "sha256:") ? check_digest(reference) : check_tag(reference);
  if (!reference_ok) return reference_ok.error();
  HttpClientRequest request;
  request.method = "PUT";
  request.url = url("/v2/" + repository + "/manifests/" + reference);
  request.headers.set("Content-Type", media_type);
  request.body = body;
  auto answer = send(request, write_scopes(repository));
  if (!answer) return answer.error();
  std::string what = fmt::format("store the manifest {}:{}", repository, reference);
  if (answer->status != 201) return failure(what, *answer);
  std::string digest = "sha256:" + sha256_hex(body);
  std::string answered = answer->headers.get("Docker-Content-Digest");
  if (answered != digest) {
    return make_error(fmt::format("registry {} stored {}:{} as '{}', but the manifest's sha256 is {}: the registry "
                                  "changed the manifest",
                                  endpoint_.registry, repository, reference, answered, digest));
  }
  return digest;
}

Result<std::optional<Manifest>> RegistryClient::get_manifest(const std::string& repository, const std::string& reference) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  HttpClientRequest request;
  request.url = url("/v2/" + repository + "/manifests/" + reference);
  request.headers.set("Accept", kManifestAccept);
  auto answer = send(request, read_scopes(repository));
  if (!answer) return answer.error();
  if (answer->status == 404) return std::optional<Manifest>();
  if (answer->status != 200) return failure(fmt::format("read the manifest {}:{}", repository, reference), *answer);
  Manifest manifest{bare_media_type(answer->headers.get("Content-Type")), std::move(answer->body), ""};
  manifest.digest = "sha256:" + sha256_hex(manifest.body);
  std::string answered = answer->headers.get("Docker-Content-Digest");
  bool by_digest = starts_with(reference, "sha256:");
  if ((by_digest && reference != manifest.digest) || (!answered.empty() && answered != manifest.digest)) {
    return make_error(fmt::format("registry {} answered a manifest for {}:{} whose sha256 is {}, not {}",
                                  endpoint_.registry, repository, reference, manifest.digest,
                                  by_digest ? reference : answered));
  }
  return std::optional<Manifest>(std::move(manifest));
}

Result<std::optional<std::string>> RegistryClient::resolve_digest(const std::string& repository, const std::string& tag) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  if (Status valid = check_tag(tag); !valid) return valid.error();
  HttpClientRequest request;
  request.method = "HEAD";
  request.url = url("/v2/" + repository + "/manifests/" + tag);
  request.headers.set("Accept", kManifestAccept);
  auto answer = send(request, read_scopes(repository));
  if (!answer) return answer.error();
  if (answer->status == 404) return std::optional<std::string>();
  if (answer->status != 200) return failure(fmt::format("resolve the tag {}:{}", repository, tag), *answer);
  std::string digest = answer->headers.get("Docker-Content-Digest");
  if (!digest.empty()) return std::optional<std::string>(digest);
  // Some registries leave the header out of HEAD answers: the body's sha256 says it too.
  auto manifest = get_manifest(repository, tag);
  if (!manifest) return manifest.error();
  return *manifest ? std::optional<std::string>((*manifest)->digest) : std::optional<std::string>();
}

Result<std::vector<std::string>> RegistryClient::list_tags(const std::string& repository) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  std::vector<std::string> tags;
  std::string next = url("/v2/" + repository + "/tags/list");
  for (int page = 0; !next.empty(); ++page) {
    if (page == 1000) return make_error(fmt::format("registry {} keeps paginating the tags of {}", endpoint_.registry, repository));
    HttpClientRequest request;
    request.url = next;
    auto answer = send(request, read_scopes(repository));
    if (!answer) return answer.error();
    if (answer->status == 404) return tags;
    if (answer->status != 200) return failure(fmt::format("list the tags of {}", repository), *answer);
    auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (!json.is_object()) return make_error(fmt::format("registry {} answered the tags of {} with something other than JSON", endpoint_.registry, repository));
    if (json.contains("tags") && json["tags"].is_array()) {
      for (const auto& tag : json["tags"]) {
        if (tag.is_string()) tags.push_back(tag.get<std::string>());
      }
    }
    std::string link = next_link(answer->headers.get("Link"));
    next = link.empty() ? "" : resolve_location(link, next);
  }
  return tags;
}

Result<bool> RegistryClient::delete_manifest(const std::string& repository, const std::string& digest) {
  if (Status valid = check_repository_path(repository); !valid) return valid.error();
  if (Status valid = check_digest(digest); !valid) return valid.error();
  HttpClientRequest request;
  request.method = "DELETE";
  request.url = url("/v2/" + repository + "/manifests/" + digest);
  auto answer = send(request, write_scopes(repository));
  if (!answer) return answer.error();
  if (answer->status == 404) return false;
  if (answer->status != 202) return failure(fmt::format("delete the manifest {}@{}", repository, digest), *answer);
  return true;
}

}  // namespace slipway
