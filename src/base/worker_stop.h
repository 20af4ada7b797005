// stop_worker: how a component stops the thread (or threads) it runs a loop on, when that loop
// waits on a condition variable for work or for `stopping`. The flag is set under the loop's
// own mutex, so a worker between its check of the flag and its wait cannot miss it; then every
// waiter is woken and each thread joined. Idempotent: a thread not running is skipped.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace slipway {

template <typename... Threads>
void stop_worker(std::mutex& mutex, std::condition_variable& wake, bool& stopping, Threads&... threads) {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  ((threads.joinable() ? threads.join() : void()), ...);
}

}  // namespace slipway
