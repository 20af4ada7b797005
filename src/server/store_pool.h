// StorePool: Store connections shared by the server's threads. A Store is one SQLite connection
// to be used by one thread at a time, so each request borrows one for its duration and gives it
// back; connections are opened on demand and kept (about as many as there are threads).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

class StorePool {
 public:
  explicit StorePool(std::filesystem::path database_file) : database_file_(std::move(database_file)) {}

  // A borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease(StorePool& pool, std::unique_ptr<Store> store) : pool_(&pool), store_(std::move(store)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Store& operator*() { return *store_; }
    Store* operator->() { return store_.get(); }

   private:
    StorePool* pool_;
    std::unique_ptr<Store> store_;
  };

  // Error when a new connection cannot be opened (the message names the file).
  Result<Lease> acquire();

 private:
  std::filesystem::path database_file_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Store>> idle_;
};

}  // namespace slipway
