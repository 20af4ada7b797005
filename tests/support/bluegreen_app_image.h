// BluegreenAppImage: the test application (tests/apps/bluegreen_app.c) as a FROM scratch image on
// the Docker Engine, for the deployment tests. The C file is compiled here with `gcc -static -O2`
// rather than by a CMake target: a test then needs nothing built beforehand but itself, and the
// image is made from exactly the source in the tree. The image is removed when the object goes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "base/files.h"
#include "publish/docker_engine.h"
#include "support/test_images.h"

namespace slipway::testing {

class BluegreenAppImage {
 public:
  // `tag` names the image ("slipway-test/bluegreen:<pid>" by default, unique per process).
  explicit BluegreenAppImage(DockerEngine& engine, std::string tag = "")
      : engine_(engine), tag_(tag.empty() ? "slipway-test/bluegreen:" + std::to_string(getpid()) : tag) {
    namespace fs = std::filesystem;
    context_ = fs::temp_directory_path() / ("slipway-bluegreen-" + std::to_string(getpid()));
    fs::create_directories(context_);
    if (Status compiled = compile_test_program("bluegreen_app", context_ / "bluegreen_app"); !compiled) {
      error_ = compiled.error().message;
      return;
    }
    auto written = write_file_atomically(context_ / "Dockerfile",
                                         "FROM scratch\nCOPY bluegreen_app /app\nENTRYPOINT [\"/app\"]\n");
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

  ~BluegreenAppImage() {
    if (!id_.empty()) (void)engine_.remove_image(tag_, true);
    std::error_code ignored;
    std::filesystem::remove_all(context_, ignored);
  }

  BluegreenAppImage(const BluegreenAppImage&) = delete;
  BluegreenAppImage& operator=(const BluegreenAppImage&) = delete;

  const std::string& error() const { return error_; }  // "" when the image was built
  const std::string& tag() const { return tag_; }
  const std::string& id() const { return id_; }        // sha256:…

 private:
  DockerEngine& engine_;
  std::string tag_;
  std::string id_;
  std::filesystem::path context_;
  std::string error_;
};

}  // namespace slipway::testing
