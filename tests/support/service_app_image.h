// ServiceAppImage: the test service (tests/apps/service_app.c: a TCP server on 127.0.0.1:$PORT
// answering $ANSWER) as a FROM scratch image on the Docker Engine, for the service container
// tests — what a database image is to a real suite. Compiled here with `gcc -static`, like
// BluegreenAppImage; the image goes when the object does.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "base/files.h"
#include "publish/docker_engine.h"
#include "support/test_images.h"

namespace slipway::testing {

class ServiceAppImage {
 public:
  explicit ServiceAppImage(DockerEngine& engine)
      : engine_(engine), tag_("slipway-test/service:" + std::to_string(getpid())) {
    namespace fs = std::filesystem;
    context_ = fs::temp_directory_path() / ("slipway-service-app-" + std::to_string(getpid()));
    fs::create_directories(context_);
    if (Status compiled = compile_test_program("service_app", context_ / "service"); !compiled) {
      error_ = compiled.error().message;
      return;
    }
    auto written = write_file_atomically(context_ / "Dockerfile",
                                         "FROM scratch\nCOPY service /service\nENTRYPOINT [\"/service\"]\n");
    if (!written) {
      error_ = written.error().message;
      return;
    }
    ImageBuildRequest build;
    build.context = context_;
    build.tags = {tag_};
    auto id = engine_.build_image(build, [](std::string_view) {});
    if (!id) {
      error_ = id.error().message;
      return;
    }
    id_ = *id;
  }

  ~ServiceAppImage() {
    if (!id_.empty()) (void)engine_.remove_image(tag_, true);
    std::error_code ignored;
    std::filesystem::remove_all(context_, ignored);
  }

  ServiceAppImage(const ServiceAppImage&) = delete;
  ServiceAppImage& operator=(const ServiceAppImage&) = delete;

  const std::string& error() const { return error_; }  // "" when the image was built
  const std::string& tag() const { return tag_; }

 private:
  DockerEngine& engine_;
  std::string tag_;
  std::string id_;
  std::filesystem::path context_;
  std::string error_;
};

}  // namespace slipway::testing
