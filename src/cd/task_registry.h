// TaskRegistry: the task definitions of data tasks follow their image. When an image is pushed
// to an environment's registry, every task of every data-task repository whose image is that
// repository gets a new revision in that environment pinned to the pushed digest — the
// definition itself (command, env, secrets, limits) read from the repository's .slipway.yml on
// its main branch — registered in one transaction together with marking the push handled.
// A task whose active revision already has that digest and definition is left alone (a second
// tag of the same image changes nothing).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cd/application_directory.h"
#include "store/image_pushes.h"
#include "store/store.h"

namespace slipway {

struct TaskRegistryChange {
  std::string environment;
  std::string repository;                          // the data-task repository
  std::string image;                               // "127.0.0.1:5000/prod/orders-etl"
  std::string digest;
  std::string tag;
  std::vector<std::pair<std::string, int>> tasks;  // name → its new revision number
  int deregistered = 0;
  int schedules_moved = 0;
};

class TaskRegistry {
 public:
  // `keep`: revisions kept per task before older ones are deregistered.
  TaskRegistry(const ApplicationDirectory& directory, int keep);

  // nullopt when the push concerns no task definition (then nothing is written and the push is
  // left for the deployments). Errors: the repository's .slipway.yml cannot be read, the store.
  Result<std::optional<TaskRegistryChange>> image_pushed(Store& store, const ImagePushRecord& push) const;

 private:
  const ApplicationDirectory& directory_;
  int keep_;
};

}  // namespace slipway
