// TaskAppImage: the test data task (tests/apps/task_app.c, its behaviour given by its arguments)
// as a FROM scratch image on the Docker Engine, at /task with no ENTRYPOINT, so that a revision's
// command is the whole command line. Compiled here with `gcc -static`, like BluegreenAppImage.
// push() puts it in a registry and returns its digest, since a task revision is always pinned to
// one. Every name the image was given goes when the object does.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/files.h"
#include "publish/docker_engine.h"
#include "support/test_images.h"

namespace slipway::testing {

class TaskAppImage {
 public:
  explicit TaskAppImage(DockerEngine& engine)
      : engine_(engine), tag_("slipway-test/task:" + std::to_string(getpid())) {
    namespace fs = std::filesystem;
    context_ = fs::temp_directory_path() / ("slipway-task-app-" + std::to_string(getpid()));
    fs::create_directories(context_);
    if (Status compiled = compile_test_program("task_app", context_ / "task"); !compiled) {
      error_ = compiled.error().message;
      return;
    }
    if (auto written = write_file_atomically(context_ / "Dockerfile", "FROM scratch\nCOPY task /task\nCMD [\"/task\"]\n");
        !written) {
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

  ~TaskAppImage() {
    for (const auto& name : names_) (void)engine_.remove_image(name);
    if (!id_.empty()) (void)engine_.remove_image(id_, true);
    std::error_code ignored;
    std::filesystem::remove_all(context_, ignored);
  }

  TaskAppImage(const TaskAppImage&) = delete;
  TaskAppImage& operator=(const TaskAppImage&) = delete;

  const std::string& error() const { return error_; }  // "" when the image was built
  const std::string& tag() const { return tag_; }

  // Tags the image repository:tag and pushes it through the Engine (POST /images/{name}/push, to
  // a registry on 127.0.0.1); returns the manifest digest.
  Result<std::string> push(const std::string& repository, const std::string& tag, const std::string& username = "",
                           const std::string& password = "") {
    if (Status tagged = engine_.tag_image(tag_, repository, tag); !tagged) return tagged.error();
    names_.push_back(repository + ":" + tag);
    auto digest = push_through_engine(engine_.socket_path(), repository, tag,
                                      {username, password, repository.substr(0, repository.find('/'))});
    if (digest) names_.push_back(repository + "@" + *digest);
    return digest;
  }

 private:
  DockerEngine& engine_;
  std::string tag_;
  std::string id_;
  std::filesystem::path context_;
  std::string error_;
  std::vector<std::string> names_;
};

}  // namespace slipway::testing
