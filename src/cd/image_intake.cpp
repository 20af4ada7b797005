#include "cd/image_intake.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/worker_stop.h"
#include "store/deployments.h"
#include "store/image_pushes.h"

namespace slipway {

struct ImageIntake::Impl {
  ImageIntakeOptions options;
  std::mutex mutex;
  std::condition_variable changed;
  bool woken = false;
  bool stopping = false;
  std::thread thread;

  explicit Impl(ImageIntakeOptions o) : options(std::move(o)) {}

  void run();
  void take_pushes(Store& store);
  Result<int> poll(Store& store);
};

// Each push either becomes a deployment (offer marks it handled), is already the newest target
// (offer marks it handled), or belongs to nothing deployable (marked handled here). A push the
// offer fails on stays unhandled and is tried again on the next pass.
void ImageIntake::Impl::take_pushes(Store& store) {
  auto pushes = unhandled_image_pushes(store, 100);
  if (!pushes) {
    spdlog::warn("image intake: {}", pushes.error().message);
    return;
  }
  for (const ImagePushRecord& push : *pushes) {
    if (options.tasks) {
      auto changed = options.tasks->image_pushed(store, push);
      if (!changed) {
        spdlog::warn("image intake: task definitions for {}: {}", push.repository, changed.error().message);
        continue;
      }
      if (*changed) {
        if (!(*changed)->tasks.empty()) {
          spdlog::info("image {}@{}: {} task definitions in {} at a new revision", push.repository, push.digest,
                       (*changed)->tasks.size(), (*changed)->environment);
          if (options.on_tasks_changed) options.on_tasks_changed(**changed);
        }
        continue;
      }
    }
    auto address = options.directory->match_push(push.registry, push.repository);
    if (!address) {
      if (Status handled = mark_image_push_handled(store, push.event_id); !handled) {
        spdlog::warn("image intake: {}", handled.error().message);
      }
      continue;
    }
    ImageOffer offer{address->application, address->environment,
                     push.registry + "/" + push.repository + "@" + push.digest, push.digest, push.tag, push.event_id};
    auto offered = options.controller->offer(offer);
    if (!offered) {
      spdlog::warn("image intake: {} to {}: {}", offer.image, address->environment, offered.error().message);
    } else if (*offered) {
      spdlog::info("image {} ({}): deployment #{} of {} to {}", offer.image, push.tag, **offered, offer.application,
                   offer.environment);
    }
  }
}

Result<int> ImageIntake::Impl::poll(Store& store) {
  int recorded = 0;
  const ServerConfig& config = options.directory->config();
  for (const EnvironmentConfig& environment : config.environments) {
    if (!environment.registry || !environment.router) continue;
    auto [host, prefix] = split_registry_url(environment.registry->url);
    for (const RepositoryConfig& repository : config.repositories) {
      // Not an application (or its secrets unset): nothing of it is deployed here to poll for.
      auto target = options.directory->resolve(repository.name, environment.name);
      if (!target) {
        spdlog::debug("registry poll: {} in {}: {}", repository.name, environment.name, target.error().message);
        continue;
      }
      std::string image = target->image_repository.substr(host.size() + 1);  // "prod/hello-app"
      auto digest = options.lookup(target->image_repository, options.poll_tag, target->credentials);
      if (!digest) {
        spdlog::warn("registry poll: {}:{}: {}", target->image_repository, options.poll_tag, digest.error().message);
        continue;
      }
      if (!*digest) continue;
      auto known = image_push_known(store, image, **digest);
      if (!known) return known.error();
      if (*known) continue;
      std::string id = fmt::format("poll:{}/{}:{}@{}", host, image, options.poll_tag, **digest);
      auto stored = record_image_push(store, ImagePushRecord{id, host, image, options.poll_tag, **digest, "", 0});
      if (!stored) return stored.error();
      if (*stored) {
        ++recorded;
        spdlog::info("registry poll: {}:{} is {} — no notification had said so", target->image_repository,
                     options.poll_tag, **digest);
      }
    }
  }
  return recorded;
}

void ImageIntake::Impl::run() {
  auto store = Store::open(options.database);
  if (!store) {
    spdlog::error("image intake: {}", store.error().message);
    return;
  }
  auto next_poll = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex);
  while (!stopping) {
    lock.unlock();
    take_pushes(**store);
    if (options.lookup && options.poll_interval.count() > 0 && std::chrono::steady_clock::now() >= next_poll) {
      if (auto polled = poll(**store); !polled) spdlog::warn("registry poll: {}", polled.error().message);
      else if (*polled > 0) take_pushes(**store);
      next_poll = std::chrono::steady_clock::now() + options.poll_interval;
    }
    lock.lock();
    changed.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping || woken; });
    woken = false;
  }
}

ImageIntake::ImageIntake(ImageIntakeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

ImageIntake::~ImageIntake() { stop(); }

Status ImageIntake::start() {
  if (!impl_->options.directory || !impl_->options.controller) {
    return make_error("the image intake needs an application directory and a deployment controller");
  }
  if (impl_->thread.joinable()) return {};
  impl_->stopping = false;
  impl_->thread = std::thread([this] { impl_->run(); });
  return {};
}

void ImageIntake::stop() { stop_worker(impl_->mutex, impl_->changed, impl_->stopping, impl_->thread); }

void ImageIntake::wake() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->woken = true;
  }
  impl_->changed.notify_all();
}

Result<int> ImageIntake::poll_once() {
  if (!impl_->options.lookup) return make_error("no registry lookup: the poll is off");
  auto store = Store::open(impl_->options.database);
  if (!store) return store.error();
  return impl_->poll(**store);
}

}  // namespace slipway
