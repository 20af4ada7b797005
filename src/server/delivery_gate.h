// DeliveryGate: the copies of one webhook delivery are handled one after another. A forge that
// retries while its first attempt is still being answered sends a second copy with the same
// delivery id; without the gate that copy could read the delivery after it was recorded but
// before its run was linked, and answer "duplicate" naming no run. Through the gate it waits
// for the first copy to finish and then answers as its duplicate, naming the run. Copies of
// different deliveries never wait for each other; one server process owns the database, so an
// in-process gate is enough.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace slipway {

class DeliveryGate {
 public:
  // Held while one copy of a delivery is handled; the next copy enters when it goes.
  class Pass {
   public:
    Pass(DeliveryGate* gate, std::string delivery_id) : gate_(gate), delivery_id_(std::move(delivery_id)) {}
    Pass(Pass&& other) noexcept : gate_(other.gate_), delivery_id_(std::move(other.delivery_id_)) { other.gate_ = nullptr; }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (gate_) gate_->leave(delivery_id_);
    }

   private:
    DeliveryGate* gate_;
    std::string delivery_id_;
  };

  // Waits while another copy of `delivery_id` is being handled. "" (no id) passes at once.
  Pass enter(const std::string& delivery_id) {
    if (delivery_id.empty()) return Pass(nullptr, "");
    std::unique_lock<std::mutex> lock(mutex_);
    left_.wait(lock, [&] { return !in_flight_.count(delivery_id); });
    in_flight_.insert(delivery_id);
    return Pass(this, delivery_id);
  }

 private:
  void leave(const std::string& delivery_id) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_.erase(delivery_id);
    }
    left_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable left_;
  std::set<std::string> in_flight_;
};

}  // namespace slipway
