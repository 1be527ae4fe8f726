#include "batch_gate.hpp"

#include <utility>
#include <vector>

namespace mock {

bool BatchGate::enter(std::function<void()> admittedLater) {
  std::lock_guard lock(mutex_);
  if (batch_ != 0 && running_ >= static_cast<long>(batch_)) {
    waiting_.push_back(std::move(admittedLater));
    return false;
  }
  ++running_;
  return true;
}

void BatchGate::leave() {
  std::function<void()> next;
  {
    std::lock_guard lock(mutex_);
    // The place passes straight to the oldest waiter unless the batch was
    // lowered below what runs now.
    if (!waiting_.empty() && (batch_ == 0 || running_ <= static_cast<long>(batch_))) {
      next = std::move(waiting_.front());
      waiting_.pop_front();
    } else {
      --running_;
    }
  }
  if (next) next();
}

void BatchGate::setBatch(unsigned batch) {
  std::vector<std::function<void()>> admitted;
  {
    std::lock_guard lock(mutex_);
    batch_ = batch;
    while (!waiting_.empty() && (batch_ == 0 || running_ < static_cast<long>(batch_))) {
      admitted.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      ++running_;
    }
  }
  for (auto& run : admitted) run();
}

BatchGate::Load BatchGate::load() {
  std::lock_guard lock(mutex_);
  return {running_, static_cast<long>(waiting_.size()), static_cast<long>(batch_)};
}

}  // namespace mock
