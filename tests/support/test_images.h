// Test programs as images, and images into a registry, through the Docker Engine:
// compile_test_program builds one of tests/apps/*.c with `gcc -static` (FROM scratch images need
// no libc), and push_through_engine asks the Engine to push REPOSITORY:TAG (POST
// /images/{name}/push), the way `docker push` does, returning the manifest digest it reports.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "base/result.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "cd/container_runtime.h"

namespace slipway::testing {

// Compiles tests/apps/NAME.c into `output`. The Error quotes gcc.
inline Status compile_test_program(const std::string& name, const std::filesystem::path& output) {
  auto compiled = run_command_checked({"gcc", "-static", "-O2", "-pthread", "-o", output.string(),
                                       std::string(SLIPWAY_SOURCE_DIR) + "/tests/apps/" + name + ".c"});
  if (!compiled) return make_error("cannot compile tests/apps/" + name + ".c: " + compiled.error().message);
  return {};
}

inline Result<std::string> push_through_engine(const std::string& socket, const std::string& repository,
                                               const std::string& tag, const PullCredentials& login) {
  HttpClientRequest post;
  post.method = "POST";
  post.url = "http://localhost/v1.41/images/" + repository + "/push?tag=" + tag;
  post.unix_socket = socket;
  post.headers.set("X-Registry-Auth", registry_auth_header(login));
  post.timeout = Milliseconds(120'000);
  auto answer = HttpClient().send(post);
  if (!answer) return answer.error();
  for (const std::string& line : split(answer->body, '\n')) {
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (!message.is_object()) continue;
    if (message.contains("error")) return make_error("push failed: " + message["error"].dump());
    if (message.contains("aux") && message["aux"].contains("Digest")) return message["aux"]["Digest"].get<std::string>();
  }
  return make_error("push answered " + std::to_string(answer->status) + " without a digest: " + answer->body);
}

}  // namespace slipway::testing
