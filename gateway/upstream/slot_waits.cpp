#include "gateway/upstream/slot_waits.hpp"

namespace infergate {

std::uint64_t SlotWaits::enter(std::function<void()> granted) {
  const auto ticket = ++nextTicket_;
  waiting_.emplace(ticket, std::move(granted));
  return ticket;
}

void SlotWaits::forget(std::uint64_t ticket) { waiting_.erase(ticket); }

void SlotWaits::deliver(std::uint64_t ticket) {
  {
    std::lock_guard lock(mutex_);
    delivered_.push_back(ticket);
  }
  wakeup_.raise(WorkerWakeup::kSlotGranted);
}

void SlotWaits::resumeGranted() {
  {
    std::lock_guard lock(mutex_);
    resuming_.swap(delivered_);
  }
  for (const auto ticket : resuming_) {
    auto it = waiting_.find(ticket);
    if (it == waiting_.end()) continue;  // gave up meanwhile; it released the slot itself
    auto granted = std::move(it->second);
    waiting_.erase(it);
    granted();
  }
  resuming_.clear();
}

}  // namespace infergate
