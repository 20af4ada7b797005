#include "base/helper_processes.h"

#include <mutex>
#include <set>

namespace slipway {

namespace {

struct Registry {
  std::mutex mutex;
  std::set<pid_t> pids;
};

Registry& registry() {
  static Registry* shared = new Registry();  // never destroyed: helpers may stop during exit
  return *shared;
}

}  // namespace

void register_helper_process(pid_t pid) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().pids.insert(pid);
}

void unregister_helper_process(pid_t pid) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().pids.erase(pid);
}

bool is_helper_process(pid_t pid) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  return registry().pids.count(pid) > 0;
}

}  // namespace slipway
