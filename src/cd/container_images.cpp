// ContainerRuntime's images: present on the Engine, or pulled from a registry on this machine.
#include <cctype>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/strings.h"
#include "cd/container_runtime.h"

namespace slipway {

namespace {

struct PullReference {
  std::string registry;    // "127.0.0.1:5000"; "" when the name has no registry part
  std::string repository;  // "127.0.0.1:5000/app"
  std::string tag;         // "sha256:…" for a digest, else a tag
};

PullReference pull_reference(const std::string& image) {
  PullReference ref;
  size_t at = image.find('@');
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (at != std::string::npos) {
    ref.repository = image.substr(0, at);
    ref.tag = image.substr(at + 1);
  } else if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.repository = image.substr(0, colon);
    ref.tag = image.substr(colon + 1);
  } else {
    ref.repository = image;
    ref.tag = "latest";
  }
  size_t first_slash = ref.repository.find('/');
  std::string first = ref.repository.substr(0, first_slash);
  // Like the Engine: a first part with '.' or ':' (or "localhost") names a registry.
  if (first_slash != std::string::npos &&
      (first.find_first_of(".:") != std::string::npos || first == "localhost")) {
    ref.registry = first;
  }
  return ref;
}

// An image name in a URL path: the characters of a reference ('/', ':', '@' included) stay as
// they are, the way the Engine's routes expect them; anything else is escaped.
std::string image_path(std::string_view image) {
  std::string out;
  for (char c : image) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._-/:@").find(c) != std::string_view::npos;
    out += plain ? std::string(1, c) : percent_encode(std::string(1, c));
  }
  return out;
}

bool is_loopback_registry(std::string_view registry) {
  std::string_view host = registry;
  if (starts_with(host, "[::1]")) return true;
  host = host.substr(0, host.find(':'));
  return host == "127.0.0.1" || host == "localhost";
}

// A pull answers 200 and then reports failure inside its JSON message stream.
std::string pull_stream_error(const std::string& body) {
  for (const std::string& line : split(body, '\n')) {
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_object() && message.contains("error") && message["error"].is_string()) {
      return message["error"].get<std::string>();
    }
  }
  return "";
}

}  // namespace

// The Engine decodes X-Registry-Auth as base64url.
std::string registry_auth_header(const PullCredentials& credentials) {
  nlohmann::json auth = {{"username", credentials.username},
                         {"password", credentials.password},
                         {"serveraddress", credentials.server_address}};
  std::string encoded = to_base64(auth.dump());
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return encoded;
}

Result<bool> DockerContainerRuntime::has_image(const std::string& image) {
  HttpClientRequest get = api_.request("GET", "/images/" + image_path(image) + "/json");
  auto response = api_.send(get);
  if (!response) return response.error();
  if (response->status == 404) return false;
  if (response->status != 200) return api_.daemon_error(get, *response, "cannot look for the image " + image);
  return true;
}

Result<std::set<std::string>> DockerContainerRuntime::image_names() {
  HttpClientRequest get = api_.request("GET", "/images/json");
  auto response = api_.send(get);
  if (!response) return response.error();
  if (response->status != 200) return api_.daemon_error(get, *response, "cannot list the images");
  nlohmann::json images = nlohmann::json::parse(response->body, nullptr, false);
  if (!images.is_array()) return make_error("the Docker Engine's image list is not a JSON array");
  std::set<std::string> names;
  for (const auto& image : images) {
    for (const char* field : {"RepoDigests", "RepoTags"}) {
      auto found = image.is_object() ? image.find(field) : image.end();
      if (found == image.end() || !found->is_array()) continue;
      for (const auto& name : *found) {
        if (name.is_string()) names.insert(name.get<std::string>());
      }
    }
  }
  return names;
}

Result<ContainerRuntime::ImageRemoval> DockerContainerRuntime::remove_image(const std::string& image) {
  HttpClientRequest del = api_.request("DELETE", "/images/" + image_path(image));
  auto response = api_.send(del);
  if (!response) return response.error();
  if (response->status == 200) return ImageRemoval::removed;
  if (response->status == 404) return ImageRemoval::absent;
  if (response->status == 409) return ImageRemoval::in_use;  // a container uses it
  return api_.daemon_error(del, *response, "cannot remove the image " + image);
}

Status DockerContainerRuntime::pull_image(const std::string& image, const std::optional<PullCredentials>& credentials) {
  PullReference ref = pull_reference(image);
  HttpClientRequest post = api_.request(
      "POST", fmt::format("/images/create?fromImage={}&tag={}", percent_encode(ref.repository), percent_encode(ref.tag)));
  if (credentials) post.headers.set("X-Registry-Auth", registry_auth_header(*credentials));
  auto response = api_.send(post);
  if (!response) return response.error();
  std::string what = fmt::format("cannot pull the image {} from the registry {}", image, ref.registry);
  if (response->status != 200) return api_.daemon_error(post, *response, what);
  std::string failure = pull_stream_error(response->body);
  if (!failure.empty()) return make_error(fmt::format("{}: the Docker Engine said: {}", what, failure));
  return {};
}

Status DockerContainerRuntime::import_image(const std::string& repository, const std::string& tag,
                                      const std::string& rootfs_tar) {
  HttpClientRequest post = api_.request(
      "POST", fmt::format("/images/create?fromSrc=-&repo={}&tag={}", percent_encode(repository), percent_encode(tag)));
  post.headers.set("Content-Type", "application/x-tar");
  post.body = rootfs_tar;
  auto response = api_.send(post);
  std::string what = fmt::format("cannot import the image {}:{}", repository, tag);
  if (!response) return make_error(what + ": " + response.error().message);
  if (response->status != 200) return api_.daemon_error(post, *response, what);
  std::string failure = pull_stream_error(response->body);
  if (!failure.empty()) return make_error(fmt::format("{}: the Docker Engine said: {}", what, failure));
  return {};
}

Status DockerContainerRuntime::ensure_image(const std::string& image, const std::optional<PullCredentials>& credentials) {
  auto present = has_image(image);
  if (!present) return present.error();
  if (*present) return {};
  PullReference ref = pull_reference(image);
  if (ref.registry.empty() || !is_loopback_registry(ref.registry)) {
    return make_error(fmt::format("image {} is not on this Docker Engine ({}), and it names no registry on this "
                                  "machine to pull it from: build or load it first, or name it as "
                                  "127.0.0.1:PORT/repository@sha256:…",
                                  image, socket_path()));
  }
  auto pulled = pull_image(image, credentials);
  if (!pulled) {
    return make_error(fmt::format("image {} is not on this Docker Engine ({}) and the pull failed: {}", image,
                                  socket_path(), pulled.error().message));
  }
  return {};
}

}  // namespace slipway
