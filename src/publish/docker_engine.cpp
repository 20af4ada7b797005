#include "publish/docker_engine.h"

#include <cstdio>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "publish/docker_messages.h"

namespace slipway {

namespace {

// An image name or id in a URL path: its '/', ':' and '@' stay (the Engine's routes expect them
// as they are), anything else outside the unreserved set is escaped.
std::string image_path(std::string_view name) {
  std::string encoded = percent_encode(name, true);
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    std::string_view rest = std::string_view(encoded).substr(i);
    if (starts_with(rest, "%3A")) {
      out += ':';
      i += 2;
    } else if (starts_with(rest, "%40")) {
      out += '@';
      i += 2;
    } else {
      out += encoded[i];
    }
  }
  return out;
}

std::vector<std::string> strings_of(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& item : value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

DockerEngine::DockerEngine(std::string socket_path) : api_(std::move(socket_path)) {}

Result<std::string> DockerEngine::version() {
  HttpClientRequest get = request("GET", "/version");
  get.timeout = Milliseconds(10'000);
  auto response = send(get);
  if (!response) return response.error();
  if (response->status != 200) return daemon_error(get, *response, "cannot read the Docker Engine's version");
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("Version") || !body["Version"].is_string()) {
    return make_error(fmt::format("the Docker Engine at {} answered /version without a version: {}", socket_path(),
                                  response->body.substr(0, 200)));
  }
  return body["Version"].get<std::string>();
}

Result<std::optional<ImageDetails>> DockerEngine::inspect_image(const std::string& name_or_id) {
  HttpClientRequest get = request("GET", "/images/" + image_path(name_or_id) + "/json");
  auto response = send(get);
  if (!response) return response.error();
  if (response->status == 404) return std::optional<ImageDetails>();
  if (response->status != 200) return daemon_error(get, *response, "cannot inspect the image " + name_or_id);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("Id") || !body["Id"].is_string()) {
    return make_error(fmt::format("the Docker Engine described the image {} without an id", name_or_id));
  }
  ImageDetails details;
  details.id = body["Id"].get<std::string>();
  if (body.contains("RootFS") && body["RootFS"].is_object()) details.diff_ids = strings_of(body["RootFS"]["Layers"]);
  if (body.contains("RepoTags")) details.repo_tags = strings_of(body["RepoTags"]);
  if (body.contains("Size") && body["Size"].is_number()) details.size = body["Size"].get<int64_t>();
  return std::optional<ImageDetails>(std::move(details));
}

Status DockerEngine::tag_image(const std::string& image, const std::string& repository, const std::string& tag) {
  HttpClientRequest post = request("POST", fmt::format("/images/{}/tag?repo={}&tag={}", image_path(image),
                                                 percent_encode(repository), percent_encode(tag)));
  auto response = send(post);
  if (!response) return response.error();
  if (response->status == 404) return make_error(fmt::format("cannot tag {}: no such image", image));
  if (response->status != 201 && response->status != 200) {
    return daemon_error(post, *response, fmt::format("cannot tag {} as {}:{}", image, repository, tag));
  }
  return {};
}

Status DockerEngine::export_image(const std::string& image, const std::filesystem::path& tar_file) {
  auto found = inspect_image(image);
  if (!found) return found.error();
  if (!*found) return make_error(fmt::format("cannot export {}: no such image", image));
  std::FILE* out = std::fopen(tar_file.c_str(), "wb");
  if (!out) return make_error(fmt::format("{}: cannot create the image archive", tar_file.string()));
  bool write_failed = false;
  HttpClientRequest get = request("GET", "/images/" + image_path(image) + "/get");
  get.on_body = [&](std::string_view chunk) {
    write_failed = std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size();
    return !write_failed;
  };
  auto response = send(get);
  bool closed = std::fclose(out) == 0;
  if (write_failed || !closed) return make_error(fmt::format("{}: cannot write the image archive", tar_file.string()));
  if (!response) return response.error();
  if (response->status != 200) {
    // The error's JSON went into the file: read it back for the message.
    HttpClientResponse answer = *response;
    if (std::FILE* in = std::fopen(tar_file.c_str(), "rb")) {
      char buffer[4096];
      answer.body.assign(buffer, std::fread(buffer, 1, sizeof buffer, in));
      std::fclose(in);
    }
    std::filesystem::remove(tar_file);
    return daemon_error(get, answer, "cannot export the image " + image);
  }
  return {};
}

Result<std::string> DockerEngine::import_image(const std::filesystem::path& rootfs_tar, const std::string& repository,
                                               const std::string& tag) {
  HttpClientRequest post = request("POST", fmt::format("/images/create?fromSrc=-&repo={}&tag={}", percent_encode(repository),
                                                 percent_encode(tag)));
  post.headers.set("Content-Type", "application/x-tar");
  post.body_file = rootfs_tar;
  DockerMessages messages(nullptr);
  post.on_body = [&](std::string_view chunk) {
    messages.feed(chunk);
    return true;
  };
  std::string what = fmt::format("cannot import {} as {}:{}", rootfs_tar.string(), repository, tag);
  auto response = send(post);
  if (!response) return response.error();
  messages.finish();
  if (response->status != 200 || !messages.error().empty()) {
    return make_error(fmt::format("{}: the Docker Engine at {} answered: {}", what, socket_path(),
                                  messages.error().empty() ? std::to_string(response->status) : messages.error()));
  }
  if (!starts_with(messages.last_status(), "sha256:")) {
    return make_error(fmt::format("{}: the Docker Engine did not name the new image (it said '{}')", what,
                                  messages.last_status()));
  }
  return messages.last_status();
}

Status DockerEngine::remove_image(const std::string& image, bool force) {
  HttpClientRequest del = request("DELETE", "/images/" + image_path(image) + (force ? "?force=1" : ""));
  auto response = send(del);
  if (!response) return response.error();
  if (response->status == 404 || response->status == 200) return {};
  std::string hint = force ? "" : " (force removes it even when a container uses it)";
  return daemon_error(del, *response, "cannot remove the image " + image + hint);
}

}  // namespace slipway
