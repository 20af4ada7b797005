#include "server/store_pool.h"

namespace slipway {

StorePool::Lease::~Lease() {
  if (!store_) return;  // moved from
  std::lock_guard lock(pool_->mutex_);
  pool_->idle_.push_back(std::move(store_));
}

Result<StorePool::Lease> StorePool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Store> store = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(store));
    }
  }
  auto opened = Store::open(database_file_);
  if (!opened) return opened.error();
  return Lease(*this, std::move(*opened));
}

}  // namespace slipway
